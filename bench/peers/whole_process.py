"""Times whole processes, start-up included: runs a command R times and prints one line
  whole-process <name><TAB>median wall seconds<TAB>median CPU seconds (user + system, children)<TAB>peak resident MiB (largest child)
Usage: whole_process.py NAME REPS -- COMMAND ARGS...
"""
import resource
import statistics
import subprocess
import sys
import time


def main() -> None:
    name, reps = sys.argv[1], int(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1:]
    walls, cpus, peak = [], [], 0.0
    for _ in range(reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        peak = max(peak, after.ru_maxrss / 1024)  # Linux: KiB, the largest resident set of any child waited for
    print(f"whole-process {name}\t{statistics.median(walls):.4f}\t{statistics.median(cpus):.4f}\t{peak:.0f}")


if __name__ == "__main__":
    main()

"""Experiment A peer: the article's numpy script (iamtrask's RNN that adds 8-bit numbers), float64.

Timed from the first iteration to the last; its every-1000-iterations printout goes to an
in-memory buffer so that terminal output does not dominate. Prints one line:
  iamtrask-numpy<TAB>seconds<TAB>iterations
"""
import copy
import io
import sys
import time

import numpy as np


def main(iterations: int) -> None:
    np.random.seed(0)

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_output_to_derivative(output):
        return output * (1 - output)

    int2binary = {}
    binary_dim = 8
    largest_number = pow(2, binary_dim)
    binary = np.unpackbits(np.array([range(largest_number)], dtype=np.uint8).T, axis=1)
    for i in range(largest_number):
        int2binary[i] = binary[i]

    alpha = 0.1
    input_dim = 2
    hidden_dim = 16
    output_dim = 1

    synapse_0 = 2 * np.random.random((input_dim, hidden_dim)) - 1
    synapse_1 = 2 * np.random.random((hidden_dim, output_dim)) - 1
    synapse_h = 2 * np.random.random((hidden_dim, hidden_dim)) - 1
    synapse_0_update = np.zeros_like(synapse_0)
    synapse_1_update = np.zeros_like(synapse_1)
    synapse_h_update = np.zeros_like(synapse_h)
    out = io.StringIO()

    start = time.perf_counter()
    for j in range(iterations):
        a_int = np.random.randint(largest_number / 2)
        a = int2binary[a_int]
        b_int = np.random.randint(largest_number / 2)
        b = int2binary[b_int]
        c_int = a_int + b_int
        c = int2binary[c_int]
        d = np.zeros_like(c)
        overall_error = 0
        layer_2_deltas = list()
        layer_1_values = list()
        layer_1_values.append(np.zeros(hidden_dim))
        for position in range(binary_dim):
            X = np.array([[a[binary_dim - position - 1], b[binary_dim - position - 1]]])
            y = np.array([[c[binary_dim - position - 1]]]).T
            layer_1 = sigmoid(np.dot(X, synapse_0) + np.dot(layer_1_values[-1], synapse_h))
            layer_2 = sigmoid(np.dot(layer_1, synapse_1))
            layer_2_error = y - layer_2
            layer_2_deltas.append((layer_2_error) * sigmoid_output_to_derivative(layer_2))
            overall_error += np.abs(layer_2_error[0])
            d[binary_dim - position - 1] = np.round(layer_2[0][0])
            layer_1_values.append(copy.deepcopy(layer_1))
        future_layer_1_delta = np.zeros(hidden_dim)
        for position in range(binary_dim):
            X = np.array([[a[position], b[position]]])
            layer_1 = layer_1_values[-position - 1]
            prev_layer_1 = layer_1_values[-position - 2]
            layer_2_delta = layer_2_deltas[-position - 1]
            layer_1_delta = (future_layer_1_delta.dot(synapse_h.T) + layer_2_delta.dot(synapse_1.T)) * sigmoid_output_to_derivative(layer_1)
            synapse_1_update += np.atleast_2d(layer_1).T.dot(layer_2_delta)
            synapse_h_update += np.atleast_2d(prev_layer_1).T.dot(layer_1_delta)
            synapse_0_update += X.T.dot(layer_1_delta)
            future_layer_1_delta = layer_1_delta
        synapse_0 += synapse_0_update * alpha
        synapse_1 += synapse_1_update * alpha
        synapse_h += synapse_h_update * alpha
        synapse_0_update *= 0
        synapse_1_update *= 0
        synapse_h_update *= 0
        if j % 1000 == 0:
            print("Error:" + str(overall_error), file=out)
            print("Pred:" + str(d), file=out)
            print("True:" + str(c), file=out)
            out_value = 0
            for index, x in enumerate(reversed(d)):
                out_value += x * pow(2, index)
            print(str(a_int) + " + " + str(b_int) + " = " + str(out_value), file=out)
            print("------------", file=out)
    elapsed = time.perf_counter() - start
    print(f"iamtrask-numpy\t{elapsed:.4g}\t{iterations}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50000)

using System.CommandLine;
using Carry.Cli;

return CarryCommand.Run(args);

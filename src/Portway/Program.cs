using Portway.Cli;

return await PortwayCli.RunAsync(args);

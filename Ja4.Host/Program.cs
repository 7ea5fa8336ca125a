using Ja4.Host;

return await Cli.RunAsync(args);

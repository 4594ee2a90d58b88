using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(HarmonyProxy.Benchmarks.ParserBenchmarks).Assembly).Run(args);

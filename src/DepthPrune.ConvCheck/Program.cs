return DepthPrune.ConvCheck.ConvCheckChild.Run(Console.Out);

return DepthPrune.Runtime.Isa.ConvCheckChild.Run(Console.Out);

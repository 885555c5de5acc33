// One test at a time: tests measure and train with libtorch on both cores, and the
// determinism tests compare numbers bit for bit.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DepthPrune.Training;

/// <summary>A progress report from a long-running step (training, probing, evaluation).</summary>
public sealed record TrainProgress(string Stage, int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy,
    double ImagesPerSecond, TimeSpan Eta, double LearningRate);

"""Storage: transcripts on disk, graph checkpoints, the record that keeps them in step, and the
lock that keeps one writer per interview."""

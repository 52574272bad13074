# src/replay

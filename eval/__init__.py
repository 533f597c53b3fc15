"""Evaluation: camera-pose metrics from SfM, FVD, motion linearity, and tables against the paper."""

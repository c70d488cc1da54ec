//! cardio-archive (placeholder until its helper lands it).

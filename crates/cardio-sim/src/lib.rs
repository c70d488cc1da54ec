//! cardio-sim (placeholder until its helper lands it).

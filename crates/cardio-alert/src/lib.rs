//! cardio-alert (placeholder until its helper lands it).

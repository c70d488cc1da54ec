//! cardio-report (placeholder until the dashboards work lands it).

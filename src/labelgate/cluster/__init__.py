"""Running labelgate on a Kubernetes cluster: KFP REST submission, schedules and data-arrival triggers."""

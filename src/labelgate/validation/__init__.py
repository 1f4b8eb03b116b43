"""Validation: the data gate (Great Expectations suites, denial constraints, drift) and its reports."""

from labelgate.validation.constraints import DenialConstraint, check_constraints, parse_constraints
from labelgate.validation.drift import build_profile, compare_profiles
from labelgate.validation.findings import Finding
from labelgate.validation.settings import ValidationSettings
from labelgate.validation.verdict import GateResult, validate_data

__all__ = [
    "DenialConstraint", "Finding", "GateResult", "ValidationSettings", "build_profile", "check_constraints",
    "compare_profiles", "parse_constraints", "validate_data",
]

"""guarantee: policy versions, assessments, guarantees in force, fees, claims."""

"""The three services of the 批次贷 platform; none imports another."""

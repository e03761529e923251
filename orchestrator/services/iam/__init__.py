"""IAM and STS as deploy scripts and Terraform call them first: roles and their policies are
recorded and answered in AWS's shape, never enforced (ripple checks no permissions)."""

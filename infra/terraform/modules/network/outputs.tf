output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.main.id
}

output "public_subnet_ids" {
  description = "IDs of the two public subnets (routed to the internet gateway)."
  value       = [aws_subnet.public_a.id, aws_subnet.public_b.id]

  # An internet-facing load balancer needs the subnets to be routed to the
  # internet gateway before it is created.
  depends_on = [
    aws_route.public_internet,
    aws_route_table_association.public_a,
    aws_route_table_association.public_b,
  ]
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.main.cidr_block
}

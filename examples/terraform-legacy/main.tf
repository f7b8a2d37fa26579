# A small estate still on the 2019 CA, for `rdsca check examples/terraform-legacy` and the CI example.
provider "aws" {
  region = "eu-west-1"
}

variable "billing_ca" {
  type    = string
  default = "rds-ca-2019" # expired 2024-08-22
}

resource "aws_db_instance" "billing" {
  identifier         = "billing"
  engine             = "mysql"
  engine_version     = "8.0.39"
  instance_class     = "db.t4g.medium"
  ca_cert_identifier = var.billing_ca
}

resource "aws_db_instance" "reports" {
  identifier         = "reports"
  engine             = "sqlserver-se"
  engine_version     = "15.00.4236.7.v1"
  instance_class     = "db.m6i.xlarge"
  ca_cert_identifier = "rds-ca-ecc384-g1" # SQL Server refuses ECC384
}

resource "aws_docdb_cluster" "catalog" {
  cluster_identifier = "catalog"
  engine_version     = "5.0.0"
}

resource "aws_docdb_cluster_instance" "catalog" {
  cluster_identifier = aws_docdb_cluster.catalog.id
  instance_class     = "db.r6g.large"
  ca_cert_identifier = "rds-ca-rsa4096-g1"
}

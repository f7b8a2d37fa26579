"""Shop web tier: EC2 behind nothing fancy, RDS for MySQL with a read replica in another zone.

Written before the 2024 rotation: the primary still names rds-ca-2019, which AWS no longer accepts, so
`rdsca check` reports it (exit 1). The replica names a current CA.
"""

import pulumi
import pulumi_aws as aws

caller = aws.get_caller_identity()
partition = aws.get_partition()
zones = aws.get_availability_zones()
default_vpc = aws.ec2.get_vpc(default=True)
web_ami = aws.ec2.get_ami(
    most_recent=True,
    owners=["099720109477"],  # Canonical
    filters=[
        {"name": "name", "values": ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]},
        {"name": "virtualization-type", "values": ["hvm"]},
    ],
)

backups = aws.s3.Bucket("shop-backups", bucket=f"shop-db-backups-{caller.account_id}-{zones.names[0]}")

assume_web = aws.iam.get_policy_document(
    statements=[
        {
            "actions": ["sts:AssumeRole"],
            "principals": [{"type": "Service", "identifiers": [f"ec2.{partition.dns_suffix}"]}],
        }
    ]
)
web_role = aws.iam.Role("shop-web", assume_role_policy=assume_web.json)
profile = aws.iam.InstanceProfile("shop-web", role=web_role.name)

db_sg = aws.ec2.SecurityGroup(
    "shop-db",
    vpc_id=default_vpc.id,
    ingress=[{"protocol": "tcp", "from_port": 3306, "to_port": 3306, "cidr_blocks": [default_vpc.cidr_block]}],
)

primary = aws.rds.Instance(
    "shop-mysql",
    engine="mysql",
    engine_version="8.0.39",
    instance_class="db.t4g.medium",
    allocated_storage=100,
    db_name="shop",
    username="shop",
    manage_master_user_password=True,
    availability_zone=zones.names[0],
    vpc_security_group_ids=[db_sg.id],
    backup_retention_period=7,
    ca_cert_identifier="rds-ca-2019",
    skip_final_snapshot=True,
)

replica = aws.rds.Instance(
    "shop-mysql-replica",
    replicate_source_db=primary.identifier,
    instance_class="db.t4g.medium",
    availability_zone=zones.names[1],
    ca_cert_identifier="rds-ca-rsa2048-g1",
    skip_final_snapshot=True,
)

web = aws.ec2.Instance(
    "shop-web",
    ami=web_ami.id,
    instance_type="t3.small",
    availability_zone=zones.names[0],
    iam_instance_profile=profile.name,
    user_data=pulumi.Output.concat("#!/bin/sh\necho DB_HOST=", primary.address, " >> /etc/shop.env\n"),
)

pulumi.export("backups", backups.bucket)
pulumi.export("web_ip", web.public_ip)

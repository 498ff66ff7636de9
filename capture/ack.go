package capture

// ACK (AWS Controllers for Kubernetes) decides whether an AWS resource exists
// in the runtime's resourceReconciler.Sync (aws-controllers-k8s/runtime,
// pkg/runtime/reconciler.go): it calls the resource manager's ReadOne, and
// on ackerr.NotFound it calls createResource. ReadOne is the generated sdkFind
// of each service controller (pkg/resource/<kind>/sdk.go), which returns
// NotFound without calling AWS when requiredFieldsMissingFromReadOneInput /
// ...ReadManyInput / ...GetAttributesInput reports the identifier missing.
// So whatever those functions read must survive a rebuild, or the rebuilt
// controller creates a second resource.
//
// Identifiers in spec (s3 Bucket spec.name, rds DBInstance
// spec.dbInstanceIdentifier, iam Role spec.name, eks Cluster spec.name,
// elasticache ReplicationGroup spec.replicationGroupID, ...) are written by
// the user and live in Git; identifiers in status are written by the
// controller after the Create call and are kept here.

// ackIdentity is one ACK kind whose identifier the controller writes into
// status. Fields are JSON paths under status.
type ackIdentity struct {
	Service string // the API group's first label: ec2 for ec2.services.k8s.aws
	Kind    string
	Field   string // status field, as serialised
	// Source is the upstream function that reads it.
	Source string
}

// ackIdentities lists the status identifiers, read from each service
// controller's generated sdk.go (requiredFieldsMissingFrom*Input). Kinds
// whose identifier is status.ackResourceMetadata.arn (iam Policy and
// OpenIDConnectProvider, sns Topic, Subscription and PlatformApplication)
// are covered by the ack/resource-metadata rule.
var ackIdentities = []ackIdentity{
	{"ec2", "VPC", "vpcID", "ec2-controller pkg/resource/vpc/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "Subnet", "subnetID", "ec2-controller pkg/resource/subnet/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "SecurityGroup", "id", "ec2-controller pkg/resource/security_group/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "InternetGateway", "internetGatewayID", "ec2-controller pkg/resource/internet_gateway/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "EgressOnlyInternetGateway", "id", "ec2-controller pkg/resource/egress_only_internet_gateway/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "NATGateway", "natGatewayID", "ec2-controller pkg/resource/nat_gateway/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "RouteTable", "routeTableID", "ec2-controller pkg/resource/route_table/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "NetworkACL", "id", "ec2-controller pkg/resource/network_acl/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "DHCPOptions", "dhcpOptionsID", "ec2-controller pkg/resource/dhcp_options/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "Instance", "instanceID", "ec2-controller pkg/resource/instance/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "TransitGateway", "transitGatewayID", "ec2-controller pkg/resource/transit_gateway/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "VPCEndpoint", "vpcEndpointID", "ec2-controller pkg/resource/vpc_endpoint/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "VPCPeeringConnection", "vpcPeeringConnectionID", "ec2-controller pkg/resource/vpc_peering_connection/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "FlowLog", "flowLogID", "ec2-controller pkg/resource/flow_log/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "CapacityReservation", "capacityReservationID", "ec2-controller pkg/resource/capacity_reservation/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"ec2", "ElasticIPAddress", "allocationID", "ec2-controller pkg/resource/elastic_ip_address/sdk.go sdkFind (Status.AllocationID == nil; requiredFieldsMissingFromReadManyInput is false)"},
	{"ec2", "LaunchTemplate", "id", "ec2-controller pkg/resource/launch_template/hooks.go checkForMissingRequiredFields"},
	{"ec2", "ManagedPrefixList", "id", "ec2-controller pkg/resource/managed_prefix_list/hooks.go checkForMissingRequiredFields"},
	{"ec2", "TransitGatewayVPCAttachment", "id", "ec2-controller pkg/resource/transit_gateway_vpc_attachment/hooks.go checkForMissingRequiredFields"},
	{"ec2", "VPCEndpointServiceConfiguration", "serviceID", "ec2-controller pkg/resource/vpc_endpoint_service_configuration/hooks.go checkForMissingRequiredFields"},
	{"sqs", "Queue", "queueURL", "sqs-controller pkg/resource/queue/sdk.go requiredFieldsMissingFromGetAttributesInput"},
	{"sns", "PlatformEndpoint", "endpointARN", "sns-controller pkg/resource/platform_endpoint/sdk.go requiredFieldsMissingFromGetAttributesInput"},
	{"kms", "Key", "keyID", "kms-controller pkg/resource/key/sdk.go requiredFieldsMissingFromReadOneInput"},
	{"kms", "Grant", "grantID", "kms-controller pkg/resource/grant/sdk.go requiredFieldsMissingFromReadManyInput"},
	{"eks", "PodIdentityAssociation", "associationID", "eks-controller pkg/resource/pod_identity_association/sdk.go requiredFieldsMissingFromReadOneInput"},
}

// ackRules keep the ARN block of every ACK resource and each kind's status
// identifier. Restore writes them back through /status before the
// controller's ReadOne finds them missing (see docs/presets.md for the race
// and the adoption annotations that close it).
func ackRules() []Rule {
	rs := []Rule{{
		Name:  "ack/resource-metadata",
		Match: Match{APIGroups: []string{"*.services.k8s.aws"}, Kinds: []string{"*"}, HasFields: paths("status.ackResourceMetadata")},
		Mode:  ModePatch,
		// The ARN and owner account identify the AWS resource (iam Policy,
		// sns Topic find it by ARN); region comes along.
		Fields: paths("status.ackResourceMetadata"),
	}}
	for _, id := range ackIdentities {
		f := "status." + id.Field
		rs = append(rs, Rule{
			Name: "ack/" + id.Kind + "." + id.Service,
			// The group stays the preset's glob (no kind above is spelled
			// the same in two ACK services): read access to ACK kinds is
			// granted by aggregation (rbac), and an exact group would make
			// the offline role guess plurals such as "natgateways".
			Match:  Match{APIGroups: []string{"*.services.k8s.aws"}, Kinds: []string{id.Kind}, HasFields: paths(f)},
			Mode:   ModePatch,
			Fields: paths(f),
		})
	}
	return rs
}

package capture

import (
	"slices"
	"testing"
)

// TestACKRulesKeepWhatSdkFindReads: for each ACK kind whose sdkFind reports
// NotFound while a status identifier is nil (read from the service
// controllers' pkg/resource/<kind>/sdk.go and hooks.go), the ack preset has
// a rule keeping exactly that field. A kind missing here is a kind whose
// rebuild creates a second AWS resource.
func TestACKRulesKeepWhatSdkFindReads(t *testing.T) {
	rules, err := PresetRules(PresetACK, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ kind, field string }{
		{"VPC", "status.vpcID"},
		{"Subnet", "status.subnetID"},
		{"SecurityGroup", "status.id"},
		{"ElasticIPAddress", "status.allocationID"},
		{"LaunchTemplate", "status.id"},
		{"ManagedPrefixList", "status.id"},
		{"TransitGatewayVPCAttachment", "status.id"},
		{"VPCEndpointServiceConfiguration", "status.serviceID"},
		{"NATGateway", "status.natGatewayID"},
		{"Queue", "status.queueURL"},
		{"PlatformEndpoint", "status.endpointARN"},
		{"Key", "status.keyID"},
		{"Grant", "status.grantID"},
		{"PodIdentityAssociation", "status.associationID"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			for _, r := range rules {
				if !slices.Contains(r.Match.Kinds, tt.kind) {
					continue
				}
				if len(r.Fields) != 1 || r.Fields[0].String() != tt.field {
					t.Errorf("rule %s keeps %v, want [%s]", r.Name, r.Fields, tt.field)
				}
				return
			}
			t.Errorf("no ack rule for %s (its sdkFind reads %s)", tt.kind, tt.field)
		})
	}
	// The ARN block covers the kinds found by ARN (iam Policy, sns Topic).
	if rules[0].Name != "ack/resource-metadata" || rules[0].Fields[0].String() != "status.ackResourceMetadata" {
		t.Errorf("first ack rule = %s %v, want ack/resource-metadata keeping status.ackResourceMetadata", rules[0].Name, rules[0].Fields)
	}
}

package uyuniapi_test

import (
	"testing"

	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

func TestReadOnly(t *testing.T) {
	for method, want := range map[string]bool{
		"system.listSystems":                      true,
		"channel.software.getDetails":             true,
		"configchannel.channelExists":             true,
		"api.getVersion":                          true,
		"user.listAssignableRoles":                true,
		"system.searchByName":                     true,
		"channel.software.create":                 false,
		"activationkey.addChildChannels":          false,
		"auth.login":                              false,
		"system.getterOfThings":                   false, // "get" must be a whole word
		"system.listen":                           false,
		"configchannel.deployAllSystems":          false,
		"channel.software.isGloballySubscribable": true,
	} {
		if got := uyuniapi.ReadOnly(method); got != want {
			t.Errorf("ReadOnly(%q) = %v, want %v", method, got, want)
		}
	}
}

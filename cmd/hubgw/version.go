package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hubgw/hubgw/buildinfo"
)

// versionCmd is `hubgw version`; root's --version prints the same line.
func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print hubgw's version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), buildinfo.Read())
			return err
		},
	}
}

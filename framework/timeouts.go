package framework

import "time"

// Spec timeouts. A boot is bounded by the config's boot timeout; these bound a whole spec (a few
// boots, inspections and deletions) so a wedged lab cannot hang a run.
const (
	OneServerTimeout   = 10 * time.Minute
	FewServersTimeout  = 15 * time.Minute
	FillingHostTimeout = 30 * time.Minute
)

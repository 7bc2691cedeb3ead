package libvirtd

// Domain is what the fake daemon knows of one libvirt domain.
type Domain struct {
	// ID is the libvirt domain id of a running domain (the Nova instance id); -1 when inactive.
	ID        int
	Name      string // instance-%08x
	UUID      string // the server UUID, canonical text form
	Active    bool
	VCPUs     int
	MemoryKiB uint64
	// XML is the full domain XML as `virsh dumpxml` returns it.
	XML string
}

// DomainSource tells the daemon of one host which domains exist right now. The mock's cloud state
// implements it; it must be safe for concurrent use.
type DomainSource interface {
	Domains() []Domain
}

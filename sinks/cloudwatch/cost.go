package cloudwatch

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Labels of skiff_output_bytes_total besides namespaces.
const (
	// NamespaceNode is the namespace label of records that belong to no
	// pod: the journal, host files.
	NamespaceNode = "_node"
	// NamespaceOther is the label of the namespaces past MaxCostNamespaces.
	NamespaceOther = "_other"
	// MaxCostNamespaces bounds the namespace labels of the cost series.
	MaxCostNamespaces = 1000
)

// costs counts the bytes CloudWatch accepted, as it bills them (message +
// EventOverhead per event), by the record's namespace. A namespace gets an
// index when its first record is routed; past MaxCostNamespaces they share
// NamespaceOther's.
type costs struct {
	vec *prometheus.CounterVec
	mu  sync.RWMutex
	idx map[string]uint16
	ctr []prometheus.Counter // by index
}

func newCosts() *costs {
	c := &costs{
		vec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_output_bytes_total", ConstLabels: outputLabel,
			Help: "Bytes CloudWatch accepted as it bills them (message + 26 per event), by the record's namespace: " +
				"_node for records of no pod (journal, host files), _other past 1,000 namespaces.",
		}, []string{"k8s_namespace_name"}),
		idx: make(map[string]uint16),
	}
	c.index(NamespaceOther) // index 0
	c.index(NamespaceNode)
	return c
}

// index returns the index of namespace ns, "" meaning NamespaceNode.
func (c *costs) index(ns string) uint16 {
	if ns == "" {
		ns = NamespaceNode
	}
	c.mu.RLock()
	i, ok := c.idx[ns]
	c.mu.RUnlock()
	if ok {
		return i
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.idx[ns]; ok {
		return i
	}
	if len(c.ctr) >= MaxCostNamespaces+2 {
		return 0
	}
	i = uint16(len(c.ctr))
	c.idx[ns] = i
	c.ctr = append(c.ctr, c.vec.WithLabelValues(ns))
	return i
}

// add counts bytes of the namespace at index i.
func (c *costs) add(i uint16, bytes int) {
	c.mu.RLock()
	ctr := c.ctr[i]
	c.mu.RUnlock()
	ctr.Add(float64(bytes))
}

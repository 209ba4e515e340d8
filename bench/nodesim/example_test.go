package nodesim_test

import (
	"context"
	"fmt"
	"os"

	"github.com/skiff-agent/skiff/bench/nodesim"
)

// A simulated node with 50 pods writing 10,000 lines/s in total, and a
// counter fed with what the destination accepted (here: nothing).
func Example() {
	root, _ := os.MkdirTemp("", "node")
	defer os.RemoveAll(root)
	sim, err := nodesim.New(nodesim.Config{Root: root, Pods: 50, Rate: 10000, Lines: 20})
	if err != nil {
		panic(err)
	}
	counter := nodesim.NewCounter(sim)
	// An agent tails sim.Glob(); the destination calls, for every accepted
	// message: counter.Observe(time.Now(), message).
	if err := sim.Run(context.Background()); err != nil {
		panic(err)
	}
	t := counter.Tally()
	fmt.Println(t.Written, "written,", t.Delivered, "delivered,", t.Lost, "lost")
	// Output: 1000 written, 0 delivered, 1000 lost
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stderr) })
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("floor-transport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	broker := fs.String("broker", "tcp://127.0.0.1:1883", "broker URL")
	prefix := fs.String("prefix", "ifstat", "topic prefix")
	node := fs.String("node", "bench", "node id")
	payloadFile := fs.String("payload", "", "file whose bytes are the constant reply (default: a built-in reply of three interfaces)")
	unordered := fs.Bool("unordered", false, "experiment: SetOrderMatters(false), as the agent's client has: a goroutine per message")
	handoff := fs.Bool("handoff", false, "experiment: the handler hands off to a worker goroutine, which publishes and waits on the token, as the agent does")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	payload := []byte(defaultPayload())
	if *payloadFile != "" {
		p, err := os.ReadFile(*payloadFile)
		if err != nil {
			fmt.Fprintf(stderr, "floor-transport: %v\n", err)
			return 1
		}
		payload = p
	}
	topics := wire.Topics{Prefix: *prefix, Node: *node}
	request, reply := topics.Request(), topics.Reply()

	// paho's defaults otherwise: ordered delivery runs the handler on the
	// router goroutine, the cheapest way paho can deliver.
	opts := mqtt.NewClientOptions().
		AddBroker(*broker).
		SetClientID("floor-transport-" + strconv.Itoa(os.Getpid())).
		SetCleanSession(true).
		SetOrderMatters(!*unordered)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		fmt.Fprintf(stderr, "floor-transport: connecting to %s: %v\n", *broker, tok.Error())
		return 1
	}
	defer c.Disconnect(100)
	// The payload never changes, so the token need not be awaited before
	// the next publish: nothing is reused.
	handler := func(c mqtt.Client, _ mqtt.Message) { c.Publish(reply, 0, false, payload) }
	if *handoff {
		work := make(chan struct{}, 64)
		handler = func(mqtt.Client, mqtt.Message) {
			select {
			case work <- struct{}{}:
			default:
			}
		}
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-work:
				}
				c.Publish(reply, 0, false, payload).WaitTimeout(10 * time.Second)
			}
		}()
	}
	if tok := c.Subscribe(request, 0, handler); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		fmt.Fprintf(stderr, "floor-transport: subscribing to %s: %v\n", request, tok.Error())
		return 1
	}
	<-ctx.Done()
	return 0
}

// defaultPayload is a reply of the agent's shape for three interfaces,
// about the size the agent sends on this machine.
func defaultPayload() string {
	var b strings.Builder
	b.WriteString(`{"id":"b-1","node":"bench","mono_ns":123456789000,"time_ns":1795300000123456789,` +
		`"boot_id":"6f1f4c52-3a3e-4d0e-9d1c-2b7a4f0e9a11","run_id":"0123456789abcdef","seq":1,"ifaces":{`)
	for i, name := range []string{"eth0", "ifb0", "ifb1"} {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"rx_bytes":45090909,"tx_bytes":191479,"rx_packets":2187,"tx_packets":2097,`+
			`"rx_errors":0,"tx_errors":0,"rx_dropped":0,"tx_dropped":0,"ifindex":%d}`, name, i+2)
	}
	b.WriteString("}}")
	return b.String()
}

package notify_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/vault"
)

// workerEnv makes the test binary a delivery worker process instead of
// running tests (see TestMain).
const workerEnv = "HERALD_TEST_WORKER_DSN"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(workerEnv); dsn != "" {
		os.Exit(runWorker(dsn, os.Getenv("HERALD_TEST_WORKER_NAME")))
	}
	os.Exit(m.Run())
}

// runWorker is a Herald delivery worker on dsn: it runs until its stdin
// closes (the parent test is done) or a minute passes.
func runWorker(dsn, name string) int {
	v, err := vault.New([]byte(testVaultKey))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := models.Open(ctx, dsn, models.Options{Sealer: v})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := notify.New(s, notify.Config{Policy: loopback, Version: name, Workers: 32, PerChannel: 8}, logger)
	var wg sync.WaitGroup
	wg.Go(func() { e.Run(ctx) })
	wg.Go(func() { s.Listen(ctx, logger) })
	fmt.Println("ready")
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
	wg.Wait()
	return 0
}

// testVaultKey matches modelstest's vault, so the parent's sealed channel
// URLs open in the workers.
const testVaultKey = "herald-test-vault-key-32-bytes!!"

func TestTwoWorkerProcessesOnePostgres(t *testing.T) {
	modelstest.RequirePostgres(t)
	ctx := context.Background()
	dsn := modelstest.NewDatabaseURL(t, models.Postgres)
	s, err := models.Open(ctx, dsn, models.Options{Sealer: modelstest.TestVault(t)})
	modelstest.Fatal(t, err, "open")
	t.Cleanup(func() { s.Close() })
	_, err = s.Migrate(ctx)
	modelstest.Fatal(t, err, "migrate")

	const events, channels = 500, 3
	var mu sync.Mutex
	seen := map[string]int{}     // X-Request-ID → requests
	byWorker := map[string]int{} // User-Agent → requests
	all := make(chan struct{})
	for i := range channels {
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			mu.Lock()
			seen[r.Header.Get("X-Request-ID")]++
			byWorker[r.Header.Get("User-Agent")]++
			if len(seen) == events*channels {
				select {
				case <-all:
				default:
					close(all)
				}
			}
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		})
		addChannel(t, s, models.ChannelWebhook, fmt.Sprintf("%s/%d", rc.URL, i), "")
	}

	for _, name := range []string{"worker-a", "worker-b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerEnv+"="+dsn, "HERALD_TEST_WORKER_NAME="+name)
		cmd.Stderr = testLog{t, name}
		stdin, err := cmd.StdinPipe()
		modelstest.Fatal(t, err, "stdin")
		stdout, err := cmd.StdoutPipe()
		modelstest.Fatal(t, err, "stdout")
		modelstest.Fatal(t, cmd.Start(), "start %s", name)
		t.Cleanup(func() {
			stdin.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
			}
		})
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("%s did not start: %q", name, line)
		}
	}
	// Let both workers reach LISTEN.
	time.Sleep(300 * time.Millisecond)

	for i := range events {
		_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: fmt.Sprintf("Component %03d", i), Status: models.StatusOperational})
		modelstest.Fatal(t, err, "event %d", i)
	}
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		mu.Lock()
		t.Fatalf("only %d of %d deliveries arrived", len(seen), events*channels)
	}
	// Give a duplicate, if any, time to show up.
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s was sent %d times", id, n)
		}
	}
	t.Logf("requests by worker: %v", byWorker)
	if len(byWorker) != 2 {
		t.Errorf("not both workers delivered: %v", byWorker)
	}
	n, err := s.CountDeliveries(ctx, models.DeliveryFilter{State: models.DeliveryDelivered})
	modelstest.Fatal(t, err, "count")
	if n != events*channels {
		t.Errorf("%d deliveries recorded as delivered, want %d", n, events*channels)
	}
}

type testLog struct {
	t    *testing.T
	name string
}

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s: %s", l.name, strings.TrimSpace(string(p)))
	return len(p), nil
}

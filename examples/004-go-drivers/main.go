// Seed 004 (Go delivery service): drivers claim orders, first come first
// served, rewritten on slotguard.claim_order. One statement, no
// SELECT-then-UPDATE: exactly one driver wins however many ask at once; the
// winner asking again gets its claim back (idempotent retry).
//
//	DATABASE_URL=postgres://app:app-secret@127.0.0.1:5432/postgres PORT=8080 ./drivers
//
//	POST /api/orders                      {"key":"shop:order-1"}   -> 201
//	POST /api/driver/orders/{key}/assign  header X-Driver-Id: 7    -> 200 | 409 | 404 | 400
//	GET  /healthz
//
// Behind a transaction pooler (pgbouncer pool_mode=transaction) the
// connection string must carry statement_cache_mode=describe: pgx v4's
// default ("prepare") creates named prepared statements on one server
// connection and runs them on whichever one the pooler hands out next.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4/pgxpool"
)

var pool *pgxpool.Pool

type order struct {
	Key       string     `json:"key"`
	Status    string     `json:"status"`
	Claimant  *string    `json:"claimant"`
	ClaimedAt *time.Time `json:"claimed_at"`
}

func send(w http.ResponseWriter, status int, body interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// httpError maps slotguard's SQLSTATEs (API.md §6) to HTTP answers.
func httpError(w http.ResponseWriter, err error) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		log.Printf("error: %v", err)
		send(w, http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
		return
	}
	body := map[string]string{"error": pe.Message, "sqlstate": pe.Code}
	switch {
	case pe.Code == "55P03": // claimed by another driver (lease not expired)
		body["error"] = "Order already assigned"
		send(w, http.StatusConflict, body)
	case pe.Code == "23P01", pe.Code == "23505": // conflict, duplicate order key
		send(w, http.StatusConflict, body)
	case pe.Code == "P0002":
		send(w, http.StatusNotFound, body)
	case pe.Code == "55000": // not ready, done or cancelled: the seed's 400
		send(w, http.StatusBadRequest, body)
	case strings.HasPrefix(pe.Code, "22"):
		send(w, http.StatusBadRequest, body)
	case pe.Code == "42501":
		send(w, http.StatusForbidden, body)
	default:
		log.Printf("error: %v", err)
		send(w, http.StatusInternalServerError, map[string]string{"error": "internal error", "sqlstate": pe.Code})
	}
}

// retry runs fn again on a serialization failure (40001) or deadlock
// (40P01): the transaction changed nothing, so running it again is safe.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = fn()
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || (pe.Code != "40001" && pe.Code != "40P01") {
			return err
		}
		time.Sleep(time.Duration(10*(attempt+1)) * time.Millisecond)
	}
	return err
}

func addOrder(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Key  string          `json:"key"`
		Kind *string         `json:"kind"`
		Data json.RawMessage `json:"payload"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		send(w, http.StatusBadRequest, map[string]string{"error": "bad JSON"})
		return
	}
	var o order
	err := retry(r.Context(), func() error {
		return pool.QueryRow(r.Context(),
			`SELECT key, status, claimant, claimed_at FROM slotguard.add_order($1, $2)`,
			in.Key, in.Kind).Scan(&o.Key, &o.Status, &o.Claimant, &o.ClaimedAt)
	})
	if err != nil {
		httpError(w, err)
		return
	}
	send(w, http.StatusCreated, o)
}

func assign(w http.ResponseWriter, r *http.Request, key string) {
	driver := r.Header.Get("X-Driver-Id")
	if driver == "" {
		send(w, http.StatusUnauthorized, map[string]string{"error": "X-Driver-Id missing"})
		return
	}
	var o order
	// The whole check-and-set is one call: no window between "is it free?"
	// and "it is mine".
	err := retry(r.Context(), func() error {
		return pool.QueryRow(r.Context(),
			`SELECT key, status, claimant, claimed_at FROM slotguard.claim_order($1, $2)`,
			key, "driver-"+driver).Scan(&o.Key, &o.Status, &o.Claimant, &o.ClaimedAt)
	})
	if err != nil {
		httpError(w, err)
		return
	}
	send(w, http.StatusOK, o)
}

func main() {
	url := os.Getenv("DATABASE_URL")
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		log.Fatalf("DATABASE_URL: %v", err)
	}
	cfg.MaxConns = 20
	pool, err = pgxpool.ConnectConfig(context.Background(), cfg)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := pool.Ping(r.Context()); err != nil {
			send(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		send(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/api/orders", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			send(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
			return
		}
		addOrder(w, r)
	})
	mux.HandleFunc("/api/driver/orders/", func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/api/driver/orders/")
		if r.Method != http.MethodPost || !strings.HasSuffix(rest, "/assign") {
			send(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
			return
		}
		assign(w, r, strings.TrimSuffix(rest, "/assign"))
	})
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	log.Printf("drivers: listening on 127.0.0.1:%s", port)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, mux))
}

package cache

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// LogTo sends go-redis's own messages (its reconnection attempts while
// Redis is down, sentinel failovers) to log at debug level: hubgw reports
// what matters itself (fault 4108, /readyz). go-redis has one process-wide
// logger, so main calls this once.
func LogTo(log *slog.Logger) { redis.SetLogger(slogLogger{log}) }

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

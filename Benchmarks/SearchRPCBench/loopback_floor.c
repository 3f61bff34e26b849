// loopback_floor: the least a request/response over loopback TCP can cost on this machine,
// with no HTTP/2, no protobuf and no runtime: a 5-byte ping answered by a forked process
// after it spins for W microseconds (standing in for a server's search). Reports the round
// trip minus W at p50 and p99 for a sweep of W, the floor under any RPC overhead measured by
// bench_search.py. On a KVM guest, an idle vCPU polls for a while before it halts (guest
// halt polling, /sys/module/haltpoll/parameters/guest_halt_poll_ns, 200 µs by default) and a
// halted one is expensive to wake: a wait past the window shows that step here, and a guest
// booted with the window at 0 pays it on every round trip.
//
//     cc -O2 -o /tmp/loopback_floor Benchmarks/SearchRPCBench/loopback_floor.c && /tmp/loopback_floor
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
    double d = *(const double *)a - *(const double *)b;
    return d < 0 ? -1 : d > 0;
}

static void fail(const char *what) {
    perror(what);
    exit(1);
}

int main(void) {
    static const double waits[] = {0, 50, 100, 150, 200, 250, 300, 500};
    enum { rounds = 4000 };
    printf("| server wait µs | round trip - wait, p50 µs | p99 µs |\n|---:|---:|---:|\n");
    for (size_t w = 0; w < sizeof waits / sizeof waits[0]; w++) {
        int listener = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t length = sizeof address;
        if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1) != 0
            || getsockname(listener, (struct sockaddr *)&address, &length) != 0) fail("listen");
        int one = 1;
        pid_t child = fork();
        if (child < 0) fail("fork");
        if (child == 0) {
            int peer = accept(listener, NULL, NULL);
            if (peer < 0) fail("accept");
            setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            char byte[64];
            for (;;) {
                ssize_t n = read(peer, byte, sizeof byte);
                if (n <= 0) _exit(0);
                double start = now_us();
                while (now_us() - start < waits[w]) {}
                if (write(peer, byte, (size_t)n) != n) _exit(1);
            }
        }
        int client = socket(AF_INET, SOCK_STREAM, 0);
        if (client < 0 || connect(client, (struct sockaddr *)&address, sizeof address) != 0) fail("connect");
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        static double samples[rounds];
        char ping[5] = "ping";
        for (int i = 0; i < rounds; i++) {
            double start = now_us();
            if (write(client, ping, sizeof ping) != sizeof ping || read(client, ping, sizeof ping) <= 0) fail("ping");
            samples[i] = now_us() - start - waits[w];
        }
        close(client);
        close(listener);
        waitpid(child, NULL, 0);
        qsort(samples, rounds, sizeof samples[0], by_value);
        printf("| %.0f | %.1f | %.1f |\n", waits[w], samples[rounds / 2], samples[rounds * 99 / 100]);
    }
    return 0;
}

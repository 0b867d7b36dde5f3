// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics_write.c - `meshgate metrics write [-c FILE] [--peers] PATH` and `meshgate metrics print`,
 * like `tailscale metrics write|print`: the running daemon's /metrics text, for node_exporter's
 * textfile collector (--collector.textfile.directory; it reads only *.prom files).
 *
 * write is atomic: the text goes to a hidden temporary file in PATH's directory (".NAME.XXXXXX",
 * which the collector ignores), is flushed to disk with mode 0644, and is renamed over PATH, so
 * a scrape sees the old file or the new one, never half of one. When the daemon does not answer,
 * PATH is left alone and the exit status is 1 (the file's mtime, exported by node_exporter as
 * node_textfile_mtime_seconds, then shows the staleness).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli.h"
#include "atomicfile.h"
#include "metrics_write.h"

static int usage(void)
{
	fprintf(stderr, "usage: meshgate metrics write [-c FILE] [--peers] PATH\n"
			"       meshgate metrics print [-c FILE] [--peers]\n");
	return 2;
}

int metrics_write_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "peers", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *verb;
	bool peers = false, print;
	struct cli_target t;
	char *text;
	size_t len;
	int c, ret;

	if (argc < 2)
		return usage();
	verb = argv[1];
	print = !strcmp(verb, "print");
	if (!print && strcmp(verb, "write"))
		return usage();
	optind = 2;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'p')
			peers = true;
		else
			return usage();
	}
	if (optind + (print ? 0 : 1) != argc)
		return usage();
	if (cli_target_load(&t, config))
		return 1;
	if (!t.metrics[0]) {
		fprintf(stderr, "meshgate metrics: MetricsListen is off in %s\n", config);
		return 1;
	}
	ret = cli_http_get(t.metrics, peers ? "/metrics?peers=1" : "/metrics", &text, &len);
	if (ret) {
		fprintf(stderr, "meshgate metrics: http://%s/metrics: %s\n", t.metrics,
			ret == -EPROTO ? "unexpected reply" : strerror(-ret));
		return 1;
	}
	if (print)
		ret = fwrite(text, 1, len, stdout) == len && !fflush(stdout) ? 0 : -EIO;
	else
		ret = atomicfile_write(argv[optind], text, len, 0644);
	if (ret)
		fprintf(stderr, "meshgate metrics: %s: %s\n", print ? "stdout" : argv[optind], strerror(-ret));
	free(text);
	return ret ? 1 : 0;
}

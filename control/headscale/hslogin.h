/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hslogin.h - what a login needs and what it leaves behind. tailscaled registers a node key once
 * (TS control/controlclient/direct.go doLogin, called while it has no registered node key or the
 * key expired) and afterwards only polls the map, also across restarts; the pre-auth key is used
 * at that moment and never again. Here the key is read from AuthKeyFile at the moment a login
 * needs it, and the login's result is StateDir/registered: the node key and the control server
 * it was registered with, one per line.
 */
#ifndef MG_HSLOGIN_H
#define MG_HSLOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_LOGIN_FILE "registered"

/*
 * The pre-auth key: the first line of @path without surrounding blanks ("" if the file is
 * empty). 0 or -errno (@out is "" then).
 */
int hs_login_read_authkey(const char *path, char *out, size_t len);
/* True if @dir/registered names exactly @node_pub and @server. */
bool hs_login_is_registered(const char *dir, const char *server, const uint8_t node_pub[32]);
/* Records that @node_pub is registered with @server (0600, temp file + rename). 0 or -errno. */
int hs_login_store(const char *dir, const char *server, const uint8_t node_pub[32]);
/* The node key is no longer registered (expired, or the server forgot the node). 0 or -errno. */
int hs_login_forget(const char *dir);

#endif

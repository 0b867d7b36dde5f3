// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_seeds_derp.c - seeds of the DERP smoke run (fuzz_derp.c): a valid handshake alone and followed by
 * RecvPacket, Ping, Health, PeerGone, an unknown frame; a refused upgrade; a DERPMap.
 * Run by tests/unit/fuzz_smoke.c.
 */
#include "../fuzz_smoke.h"

const char fuzz_smoke_name[] = "fuzz_smoke_derp";

const char *const fuzz_smoke_seeds[] = {
	"01" "",
	"01" "0500000024ababababababababababababababababababababababababababababababababdeadbeef12000000080102030405060708",
	"3d" "120000000801020304050607080500000024ababababababababababababababababababababababababababababababababdeadbeef",
	"05" "140000000361626306000000000800000021abababababababababababababababababababababababababababababababab01",
	"07" "7f00000064000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000500000024ababababababababababababababababababababababababababababababababdeadbeef",
	"02" "485454502f312e312031303120780d0a0d0a010000002844455250f09f9491abababababababababababababababababababababababababababababababab",
	"04" "485454502f312e312034303020780d0a0d0a",
	"00" "7b22393030223a7b22526567696f6e4944223a3930302c224e6f646573223a5b7b224e616d65223a2261222c22486f73744e616d65223a22642e74657374222c2249507634223a22312e322e332e34222c2244455250506f7274223a383434332c225354554e506f7274223a2d312c22436572744e616d65223a227368613235362d7261773a3030222c22496e736563757265466f725465737473223a747275657d5d7d7d",
};
const size_t fuzz_smoke_nseeds = sizeof(fuzz_smoke_seeds) / sizeof(fuzz_smoke_seeds[0]);

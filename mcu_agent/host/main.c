/* imprint-agent-mcu: the reference C agent on a host, over a serial link (docs/porting.md). */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imprint_host.h"

static const char kUsage[] =
    "usage: imprint-agent-mcu --serial PATH [--baud N] --store DIR --hardware-id ID [options]\n"
    "       imprint-agent-mcu --simulate N --store DIR [--id-prefix P] [--devices-file F]\n"
    "                         [--reset-permille R] [--seed S] [options]\n"
    "options: --model M, --ca-root-sha256 HEX (the only root the devices accept)\n";

static int parse_unsigned(const char *text, unsigned max, unsigned *out) {
  char *end = NULL;
  unsigned long v = strtoul(text, &end, 10);
  if (text[0] == '\0' || text[0] == '-' || *end != '\0' || v > max) return -1;
  *out = (unsigned)v;
  return 0;
}

static int parse_hex32(const char *text, uint8_t out[32]) {
  if (strlen(text) != 64) return -1;
  for (int i = 0; i < 32; ++i) {
    unsigned byte;
    if (sscanf(text + 2 * i, "%2x", &byte) != 1) return -1;
    out[i] = (uint8_t)byte;
  }
  return 0;
}

static int printable_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 64) return 0;
  for (size_t i = 0; i < n; ++i) {
    if (id[i] < 0x21 || id[i] > 0x7E) return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  imprint_host_options o;
  memset(&o, 0, sizeof o);
  o.id_prefix = "mcu";
  o.model = "mcu-reference";
  static uint8_t root[32];
  static const struct option kOptions[] = {{"serial", required_argument, NULL, 's'},
                                           {"baud", required_argument, NULL, 'b'},
                                           {"simulate", required_argument, NULL, 'n'},
                                           {"store", required_argument, NULL, 'd'},
                                           {"hardware-id", required_argument, NULL, 'i'},
                                           {"id-prefix", required_argument, NULL, 'p'},
                                           {"model", required_argument, NULL, 'm'},
                                           {"ca-root-sha256", required_argument, NULL, 'r'},
                                           {"devices-file", required_argument, NULL, 'f'},
                                           {"reset-permille", required_argument, NULL, 'R'},
                                           {"seed", required_argument, NULL, 'S'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", kOptions, NULL)) != -1) {
    int bad = 0;
    switch (c) {
      case 's':
        o.serial = optarg;
        break;
      case 'b':
        bad = parse_unsigned(optarg, 4000000, &o.baud);
        break;
      case 'n':
        bad = parse_unsigned(optarg, 1000, &o.count) || o.count == 0;
        break;
      case 'd':
        o.store = optarg;
        break;
      case 'i':
        o.hardware_id = optarg;
        break;
      case 'p':
        o.id_prefix = optarg;
        break;
      case 'm':
        o.model = optarg;
        break;
      case 'r':
        bad = parse_hex32(optarg, root);
        o.root_sha256 = root;
        break;
      case 'f':
        o.devices_file = optarg;
        break;
      case 'R':
        bad = parse_unsigned(optarg, 1000, &o.reset_permille);
        break;
      case 'S':
        bad = parse_unsigned(optarg, 0xFFFFFFFFu, &o.seed);
        break;
      case 'h':
        fputs(kUsage, stdout);
        return 0;
      default:
        fputs(kUsage, stderr);
        return 2;
    }
    if (bad) {
      fprintf(stderr, "imprint-agent-mcu: bad value for --%s: %s\n", argv[optind - 1] + 2, optarg);
      return 2;
    }
  }
  if (optind != argc || o.store == NULL || (o.serial == NULL) == (o.count == 0)) {
    fputs(kUsage, stderr);
    return 2;
  }
  if (o.serial != NULL && (o.hardware_id == NULL || !printable_id(o.hardware_id))) {
    fputs("imprint-agent-mcu: --serial needs --hardware-id (1 to 64 printable characters)\n",
          stderr);
    return 2;
  }
  if (o.serial == NULL && (strlen(o.id_prefix) > 58 || !printable_id(o.id_prefix))) {
    fputs("imprint-agent-mcu: --id-prefix takes 1 to 58 printable characters\n", stderr);
    return 2;
  }
  if (strlen(o.model) > 64) {
    fputs("imprint-agent-mcu: --model takes at most 64 characters\n", stderr);
    return 2;
  }
  if (o.root_sha256 == NULL) {
    fputs(
        "imprint-agent-mcu: warning: no CA root pinned (--ca-root-sha256): the devices accept "
        "a chain to any root\n",
        stderr);
  }
  return imprint_host_run(&o);
}

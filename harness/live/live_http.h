/* live_http.h - inside the live view's HTTP server (live_http.c, live_events.c). */
#ifndef BISE_LIVE_HTTP_H
#define BISE_LIVE_HTTP_H

#include <microhttpd.h>

struct live;

/* GET /events: a stream of server-sent events for as long as the server runs. */
enum MHD_Result live_events_stream(struct live *l, struct MHD_Connection *c);

#endif

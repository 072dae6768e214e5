/* SPDX-License-Identifier: Apache-2.0
 * api: the HTTP faces of the service (Keystone tokens, Glance v2, legacy
 * v1/v1.1). Translates requests and JSON to core calls and core results to
 * HTTP; no SQL, no file paths. */
#ifndef IMS_API_H
#define IMS_API_H

#include "ims/http.h"

struct ims_service;

/* The route table, with each route's IAM actions and scopes. */
extern const struct ims_route ims_api_routes[];
extern const size_t ims_api_nroutes;

/* The actions the route requires up front ("a+b"), without the deferred
 * ones; false when none (N/A, or "a|b" decided by the handler). */
bool ims_route_required_actions(const struct ims_route *r, char *out, size_t cap);

/* Whether calling the route with method m writes: every method but GET and
 * HEAD, except on public routes (logins) and IMS_ROUTE_READS ones. Tokens
 * of readers (read_only) are refused such calls before the handler. */
bool ims_route_writes(const struct ims_route *r, enum ims_method m);

/* Fills an ims_http_app for svc (hooks: authentication, 404/405, logging). */
void ims_api_app_init(struct ims_http_app *app, struct ims_service *svc);

#endif

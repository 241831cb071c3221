export interface Config {
  auth?: {
    providers?: {
      /**
       * Cloudflare Access sign-in. Nothing here is visible to the frontend.
       * Checked at startup: an invalid value stops the backend with a message
       * naming the key. Numbers may also be numeric strings (from environment
       * variables).
       */
      cfaccess?: {
        /**
         * Zero Trust team name, the `<team>` of `<team>.cloudflareaccess.com`
         * (a DNS label: letters, digits, dashes). The team domain, and so the
         * issuer, is then https://<teamName>.cloudflareaccess.com.
         * Set exactly one of teamName and teamDomain.
         */
        teamName?: string;
        /**
         * Team domain instead of teamName, e.g. https://myteam.cloudflareaccess.com
         * or myteam.cloudflareaccess.com (https is assumed); only its origin is
         * used, and it must carry no credentials. Must be https and not a
         * loopback host, except with auth.environment: development (set
         * explicitly, NODE_ENV not production), which also allows http on a
         * loopback host: the local Access emulator, e.g. http://localhost:7000.
         */
        teamDomain?: string;
        /**
         * Dangerous: accept a loopback team domain (https only) outside
         * development. Whatever listens on that port is trusted as Cloudflare
         * Access. Only for tests that run production mode on one machine; logs
         * a warning at startup. Default false.
         */
        dangerouslyAllowLoopbackTeamDomain?: boolean;
        /**
         * Application Audience (AUD) tag(s) of the Access application(s) in
         * front of Backstage. Required, non-empty. A token is accepted when its
         * aud contains one of them.
         */
        audience: string | string[];
        /**
         * Service tokens allowed to sign in (none by default), each mapped to a
         * subject, read at startup: the email of a catalog User (signed in by
         * the email resolvers, as for a person) or a User entity ref (signed in
         * by serviceTokenSubject; kind defaults to user, namespace to default).
         * Each token at most once. The Client Secret never belongs here:
         * Access checks it.
         * @deepVisibility secret
         */
        serviceTokens?: Array<{
          /**
           * Service token Client ID, ends in `.access` (the token's
           * common_name).
           * @visibility secret
           */
          token: string;
          /**
           * An email (name@domain), or a User entity ref such as
           * user:default/ci-bot.
           */
          subject: string;
        }>;
        /**
         * Header carrying the application token, matched case-insensitively
         * and preferred over the cookie. Default cf-access-jwt-assertion.
         */
        jwtHeaderName?: string;
        /**
         * Cookie carrying the application token, read only when the header is
         * missing or empty. Default CF_Authorization.
         */
        authorizationCookieName?: string;
        /** Allowed clock skew for exp and nbf, in seconds, 0-300. Default 60. */
        clockToleranceSeconds?: number;
        /** Larger tokens are rejected (token_too_large) before parsing, 1024-65536 bytes. Default 8192. */
        maxTokenBytes?: number;
        jwks?: {
          /**
           * How long fetched signing keys are fresh, 60-86400 seconds; the
           * module refreshes them in the background at 80% of it. Default 600.
           */
          cacheMaxAgeSeconds?: number;
          /**
           * Minimum seconds between refetches for unknown kids, and between
           * retries after a failed fetch, 1-3600. Default 30.
           */
          cooldownSeconds?: number;
          /** Timeout of the certs request, 100-60000 ms. Default 5000. */
          timeoutMs?: number;
          /**
           * How long past freshness the last good keys keep serving while the
           * certs endpoint fails, 0-604800 seconds; then 503 keys_unavailable.
           * Default 3600.
           */
          staleMaxAgeSeconds?: number;
          /**
           * Largest certs answer read, after decompression, a whole number
           * 16384-4194304 bytes; a larger one counts as a failed fetch.
           * Default 1048576 (1 MiB).
           */
          maxBodyBytes?: number;
        };
        identity?: {
          /**
           * Fetch get-identity for a person's name and groups (never for
           * service tokens). When false, identityAvailable is always false.
           * Default true.
           */
          enabled?: boolean;
          /** Timeout of the get-identity request, 100-60000 ms. Default 3000. */
          timeoutMs?: number;
          /**
           * How long a get-identity answer is cached (cache service and
           * in-process memo), 0-3600 seconds, never beyond the token's expiry;
           * 0 disables both. Failures are not cached. Default 300.
           */
          cacheTtlSeconds?: number;
          /**
           * Largest get-identity answer read, after decompression, a whole
           * number 16384-4194304 bytes; a larger one counts as a failed
           * get-identity (sign-in continues with the token's claims), as does
           * one nested deeper than 32 levels. Default 1048576 (1 MiB).
           */
          maxBodyBytes?: number;
        };
        /**
         * The Access application has Cloudflare's Managed OAuth on: Access
         * signs agents and other MCP clients in (OAuth 2.1) and sends their
         * requests on with an application token, like a browser's. Backstage's
         * own OAuth (auth.clientIdMetadataDocuments,
         * auth.experimentalClientIdMetadataDocuments,
         * auth.experimentalDynamicClientRegistration) must
         * then stay off: startup and the doctor warn when it is on. Default
         * false.
         */
        managedOAuth?: boolean;
        /**
         * The Access boundary: Cloudflare Access checked on every request to
         * every plugin, not only at sign-in. Takes effect only in a backend
         * whose root HTTP router is configured with
         * withCloudflareAccessBoundary(); checked at startup.
         */
        boundary?: {
          /**
           * enforce: a request without a valid Access application token (or
           * a Backstage plugin token) is refused with 401 and the reason, and
           * one that fails a rule with 403 (503 when get-identity cannot be
           * reached). report: such requests pass, and are logged and
           * counted. off: no check. Default enforce.
           */
          mode?: 'enforce' | 'report' | 'off';
          /**
           * Paths that need no Access token, e.g. a webhook receiver that
           * Access bypasses: an exact path, or a prefix ending in /*
           * (/api/events/http/*). Matched case-sensitively against the plain
           * path as received; an encoded or dot-segment spelling never
           * matches. Health checks and Backstage's public key endpoints need
           * no entry.
           */
          exemptPaths?: string[];
          /**
           * Dangerous: subjects of backend.auth.externalAccess callers allowed
           * without an Access token (by default they too must come through
           * Access). Each such token then works from anywhere that reaches
           * the backend.
           */
          dangerouslyAllowExternalAccessWithoutAccess?: string[];
          /**
           * What requests to some paths must also meet, checked by the
           * boundary before the route runs: each rule names requests (match)
           * and what they need (require). A request must meet every rule that
           * matches it; one that does not gets 403 with a reason code
           * (posture_required, posture_stale, warp_required,
           * country_not_allowed, identity_provider_not_allowed, people_only,
           * access_application_required) or 503 access_context_unavailable
           * when get-identity cannot be reached. Backstage's own calls
           * between plugins meet no rule (see refuseCallsOnBehalfOfPeople).
           * Checked at startup.
           */
          rules?: Array<{
            /** Shown in the log and by the doctor. */
            name?: string;
            /**
             * "[METHOD[,METHOD]] /path": a * segment is any one segment, a
             * final * is one or more segments below (not the path itself),
             * e.g. "POST
             * /api/scaffolder/v2/tasks", "/api/scaffolder/v2/actions/*"; no
             * route parameters (:name).
             * Matched case-insensitively against the path as routed and as
             * normalised (decoded, dot segments applied); GET also matches
             * HEAD.
             */
            match: string | string[];
            /** At least one requirement. */
            require: {
              /** Service tokens are refused (people_only). */
              peopleOnly?: boolean;
              /** The request must come through the WARP client (get-identity is_warp). */
              warp?: boolean;
              /** Posture rules the device must have passed (get-identity devicePosture). */
              devicePosture?: Array<{
                /** The posture rule's id, as in the Zero Trust dashboard. */
                rule: string;
                /** What the person is told the check is called; default Access's rule name. */
                name?: string;
                /**
                 * How long ago the passing check may have run (its
                 * timestamp): a duration such as 10m, 10 minutes, PT10M or
                 * \{ minutes: 10 \}, between 1 second and 30 days. Without
                 * it, any passing result counts.
                 */
                maxAge?: string | { [unit: string]: number };
              }>;
              /** Two-letter country codes the token's country claim must be one of. */
              countries?: string[];
              /** Identity provider ids or types (get-identity idp) the person must have signed in with. */
              identityProviders?: string[];
              /**
               * The AUD tag of a stricter Access application the token must
               * be issued for; it must also be in audience.
               */
              accessApplication?: string;
            };
            /**
             * How old the get-identity answer may be for this rule's WARP,
             * posture and identity provider checks before it is fetched
             * again: a duration such as 30s, 1m or PT1M, between 1 second
             * and 1 hour. Default 1 minute.
             */
            identityMaxAge?: string | { [unit: string]: number };
            /**
             * Only these callers must meet the rule; the others pass it,
             * except external access callers let in without Access, who meet
             * it either way.
             * people: a person's Access token, or a plugin's call on a
             * person's behalf (a rule that asks for WARP or device posture
             * while CI jobs with service tokens use the same paths).
             * serviceTokens: service tokens only. Default: every caller.
             */
            appliesTo?: 'people' | 'serviceTokens';
            /**
             * Refuse, on this rule's paths, a plugin's call made on behalf
             * of a person (a plugin token with no Access token, such as the
             * scaffolder's execute-template action or MCP actions running
             * a template): that person's device was not checked for it. A
             * plugin's own calls always pass. Default false, so that plugins
             * calling each other for a person keep working.
             */
            refuseCallsOnBehalfOfPeople?: boolean;
          }>;
        };
        /**
         * Successfully verified tokens kept in memory (by SHA-256 of the token,
         * never the token) so a session's repeated refreshes skip the signature
         * check.
         */
        verifiedTokenCache?: {
          /**
           * Most tokens kept, least recently used dropped first, a whole number
           * 0-1000000; 0 disables the cache. Also bounds the in-process memo of
           * identities (one per session). Default 10000.
           */
          maxEntries?: number;
        };
        /**
         * Sign-in resolvers, tried in order: emailMatchingUserEntityProfileEmail,
         * emailLocalPartMatchingUserEntityName (requires allowedDomains or
         * dangerouslyAllowAnyEmailDomain), serviceTokenSubject,
         * signInWithCatalogUserAndAccessGroups (requires accessGroups or
         * dangerouslyMapGroupNames). Required unless a custom module registers
         * the provider with its own resolver. Checked at startup: an unknown
         * resolver, an unknown or invalid option or an empty list stops the
         * backend, naming the entry. When none finds a catalog User: 403
         * user_not_found.
         * @visibility backend
         */
        signIn?: {
          resolvers: Array<{
            /** The resolver's name. */
            resolver: string;
            /**
             * Only emails of these domains may sign in (403 otherwise): plain
             * ASCII domains such as example.com (an internationalised domain in
             * its xn-- form), without "@". The email must have exactly one "@"
             * and its domain must equal an entry, ignoring ASCII case.
             * @visibility backend
             */
            allowedDomains?: string[];
            /**
             * signInWithCatalogUserAndAccessGroups: the Access groups that grant
             * ownership, each by its stable id or, for identity providers that
             * report no ids, by its exact name. A name entry matches only
             * groups reported without an id. Groups not listed grant nothing.
             * @visibility backend
             */
            accessGroups?: Array<{
              /** The group's id as get-identity reports it. */
              id?: string;
              /** The group's exact name; matches only groups without an id. */
              name?: string;
              /** The entity ref the group grants, e.g. group:default/platform-team. */
              entityRef: string;
              /**
               * Match only for people signed in through this identity
               * provider, as get-identity reports it in idp: its id, its type
               * (okta, azureAD, github, oidc, ...) or both; each given must match.
               */
              idp?: { id?: string; type?: string };
            }>;
            [key: string]: unknown;
          }>;
        };
      };
    };
  };
}

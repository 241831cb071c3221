export interface Config {
  auth?: {
    providers?: {
      /** Cloudflare Access sign-in. Nothing here is visible to the frontend. */
      cfaccess?: {
        /**
         * Zero Trust team name: the issuer is https://<teamName>.cloudflareaccess.com.
         * Set exactly one of teamName and teamDomain.
         */
        teamName?: string;
        /**
         * Team domain, e.g. https://myteam.cloudflareaccess.com or
         * myteam.cloudflareaccess.com (https is assumed). Must be https and
         * not a loopback host, except with auth.environment: development
         * (the local Access emulator, e.g. http://localhost:7000).
         */
        teamDomain?: string;
        /**
         * Dangerous: accept a loopback team domain (https only) outside
         * auth.environment: development. Whatever listens on that port is
         * trusted as Cloudflare Access. Only for tests that run production
         * mode on one machine. Default false.
         * @visibility backend
         */
        dangerouslyAllowLoopbackTeamDomain?: boolean;
        /**
         * Application Audience (AUD) tag(s) of the Access application in front
         * of Backstage. Required. A token is accepted when its aud contains one.
         */
        audience: string | string[];
        /**
         * Service tokens allowed to sign in, by Client ID (`token`, the JWT's
         * common_name), each mapped to a subject: the email of a catalog User
         * (signed in by the email resolvers) or a User entity ref (signed in
         * by serviceTokenSubject). Read at startup.
         * @deepVisibility secret
         */
        serviceTokens?: Array<{
          /** Service token Client ID, ends in `.access`. */
          token: string;
          /** An email, or a User entity ref such as user:default/ci-bot. */
          subject: string;
        }>;
        /** Header carrying the application token. Default cf-access-jwt-assertion. */
        jwtHeaderName?: string;
        /** Cookie carrying the application token (fallback). Default CF_Authorization. */
        authorizationCookieName?: string;
        /** Allowed clock skew for exp/nbf, 0-300. Default 60. */
        clockToleranceSeconds?: number;
        /** Larger tokens are rejected before parsing, 1024-65536. Default 8192. */
        maxTokenBytes?: number;
        jwks?: {
          /** How long fetched keys are fresh, 60-86400. Default 600. */
          cacheMaxAgeSeconds?: number;
          /** Minimum seconds between refetches for unknown kids, 1-3600. Default 30. */
          cooldownSeconds?: number;
          /** Timeout for the certs request, 100-60000. Default 5000. */
          timeoutMs?: number;
          /** How long past freshness last-good keys serve while certs fails, 0-604800. Default 3600. */
          staleMaxAgeSeconds?: number;
          /** Larger certs answers are refused (as a failed fetch), 16384-4194304. Default 1048576 (1 MiB). */
          maxBodyBytes?: number;
        };
        identity?: {
          /** Fetch get-identity for name and groups. Default true. */
          enabled?: boolean;
          /** Timeout for the get-identity request, 100-60000. Default 3000. */
          timeoutMs?: number;
          /** Identity cache (and in-process memo) TTL, 0-3600, never beyond the token's expiry; 0 disables both. Default 300. */
          cacheTtlSeconds?: number;
          /** Larger get-identity answers count as failed (sign-in continues with the token's claims), as do answers nested deeper than 32 levels, 16384-4194304. Default 1048576 (1 MiB). */
          maxBodyBytes?: number;
        };
        /**
         * Successfully verified tokens kept in memory (by SHA-256 of the token)
         * so a session's repeated refreshes skip the signature check.
         */
        verifiedTokenCache?: {
          /**
           * Most tokens kept (least recently used go first), 0-1000000; 0 disables.
           * Also bounds the in-process memo of identities (one per session).
           * Default 10000.
           * @visibility backend
           */
          maxEntries?: number;
        };
        /**
         * Sign-in resolvers, tried in order: emailMatchingUserEntityProfileEmail,
         * emailLocalPartMatchingUserEntityName (requires allowedDomains),
         * serviceTokenSubject, signInWithCatalogUserAndAccessGroups (requires
         * accessGroups). When none finds a catalog User: 403 user_not_found.
         * Checked at startup: an unknown resolver or an invalid option stops
         * the backend, naming the entry.
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

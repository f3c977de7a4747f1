// Generated from packages/shared-schemas/openapi/backend.json by openapi-typescript: run `npm run openapi`.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Alive */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: database and object storage reachable */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Ready */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BackendReadiness"];
                    };
                };
                /** @description Not ready */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BackendReadiness"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Prometheus text format */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's own API keys (every user's for the admin), without their secrets */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The keys */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiKeyListResponseBody"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Create a user's API key (admin only); the key is returned once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["ApiKeyCreateRequestBody"];
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiKeyCreateResponseBody"];
                    };
                };
                /** @description Malformed request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not allowed for this key */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an API key at once (your own; the admin may revoke any but the configured admin key) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List your datasets, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    /** @description Opaque cursor from a previous page */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of datasets */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DatasetPage"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Upload a dataset (.zip), streamed to object storage and checked before it is accepted */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "multipart/form-data": {
                        name: string;
                        format: components["schemas"]["DatasetFormat"];
                        /**
                         * @description The file's length in bytes, sent before `file`: the file is then streamed to storage in one request (and must hold exactly that many bytes)
                         * @example 191494994
                         */
                        size?: string;
                        /**
                         * Format: binary
                         * @description The dataset as a .zip
                         */
                        file: string;
                    };
                };
            };
            responses: {
                /** @description Accepted */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Dataset"];
                    };
                };
                /** @description Malformed request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Upload too large */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Unsupported media type */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One dataset */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The dataset */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Dataset"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete a dataset and its file (refused while an unfinished job uses it) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/weights": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List your uploaded weights, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    /** @description Opaque cursor from a previous page */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of weights */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WeightsPage"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Upload starting weights (a YOLO .pt, a timm state dict as .safetensors or .pth), checked by loading them with the framework before they are accepted */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "multipart/form-data": {
                        name: string;
                        framework: components["schemas"]["Framework"];
                        /** @description The catalog model the weights are for */
                        model: string;
                        /**
                         * @description The file's length in bytes, sent before `file`: the file is then streamed to storage in one request (and must hold exactly that many bytes)
                         * @example 191494994
                         */
                        size?: string;
                        /**
                         * Format: binary
                         * @description The weights file
                         */
                        file: string;
                    };
                };
            };
            responses: {
                /** @description Accepted */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Weights"];
                    };
                };
                /** @description Malformed request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Upload too large */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Unsupported media type */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/weights/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One uploaded weights file */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The weights */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Weights"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete uploaded weights and their file (refused while an unfinished job starts from them) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Models each framework can train (from scratch, or from weights you uploaded; none needs weights from the internet) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The catalog */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ModelListResponseBody"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List your jobs, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    /** @description Opaque cursor from a previous page */
                    cursor?: string;
                    status?: components["schemas"]["JobStatus"];
                    framework?: components["schemas"]["Framework"];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of jobs */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["JobPage"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Create a training job */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description A retried create with the same key returns the same job */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["JobCreateRequestBody"];
                };
            };
            responses: {
                /** @description The job an earlier request with this Idempotency-Key created */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Job"];
                    };
                };
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Job"];
                    };
                };
                /** @description Malformed request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One job: status, progress, latest metrics, artifacts, error */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The job */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Job"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A job's events; with `Accept: text/event-stream`, a live stream that ends when the job ends */
        get: {
            parameters: {
                query?: {
                    /** @description Only events with a larger seq */
                    after?: number | null;
                    limit?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Event history, or a Server-Sent Events stream (`event: <type>`, `id: <seq>`, `data: <JobEvent>`) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["JobEventList"];
                        "text/event-stream": string;
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The training's log: live from its trainer or pod while it runs, from object storage once it ended */
        get: {
            parameters: {
                query?: {
                    /** @description Keep the response open and stream new lines until the training ends */
                    follow?: "0" | "1" | "true" | "false";
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The log as plain text */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/artifacts/{kind}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Download one of a job's artifacts (a checkpoint, its metrics, its log) as stored */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    /** @description onnx: the best checkpoint exported to ONNX */
                    kind: components["schemas"]["ArtifactKind"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The file; `Content-Disposition` names it, `X-Checksum-Sha256` carries its sha256 when it was recorded */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/octet-stream": string;
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a job; a finished job is returned unchanged */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Already finished */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Job"];
                    };
                };
                /** @description Cancellation accepted */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Job"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/exports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Export a succeeded training job's best checkpoint: queues an export job of its own (kind `export`), whose artifact of the format's kind is the exported file */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["JobExportRequestBody"];
                };
            };
            responses: {
                /** @description The export job, queued */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Job"];
                    };
                };
                /** @description Malformed request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Continue a failed or cancelled job from its last checkpoint, as its next attempt; a job still queued or running is returned unchanged */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The job has not ended: nothing to do */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Job"];
                    };
                };
                /** @description The next attempt is queued */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Job"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not found (or not yours) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Conflicts with the current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Trainer -> backend events, one or a batch in seq order (stored in one transaction), authenticated by the job's callback token */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "started";
                        totalEpochs: number;
                        frameworkVersion?: string;
                    } | {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "progress";
                        /** @description 1-based epoch that just finished */
                        epoch: number;
                        totalEpochs: number;
                        metrics: components["schemas"]["Metrics"];
                    } | {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "checkpoint";
                        epoch: number;
                        artifacts: components["schemas"]["Artifact"][];
                    } | {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "log";
                        /** @enum {string} */
                        level: "debug" | "info" | "warn" | "error";
                        message: string;
                    } | {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "heartbeat";
                        phase?: components["schemas"]["TrainingPhase"];
                        /**
                         * Format: date-time
                         * @description When the training last made real progress (bytes moved, an epoch finished), not just lived
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        lastProgressAt?: string;
                        /** @description Silence in this phase past this many seconds is a stall */
                        stallLimitSeconds?: number;
                    } | {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "tracking";
                        mlflow: components["schemas"]["MlflowRunRef"];
                    } | {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "completed";
                        metrics: components["schemas"]["Metrics"];
                        artifacts: components["schemas"]["Artifact"][];
                    } | {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "failed";
                        error: components["schemas"]["JobError"];
                        /**
                         * @description What was kept: at least the training log
                         * @default []
                         */
                        artifacts?: components["schemas"]["Artifact"][];
                    } | {
                        /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
                        seq: number;
                        /**
                         * Format: date-time
                         * @example 2026-11-23T10:00:00.000Z
                         */
                        timestamp: string;
                        /** @enum {string} */
                        type: "cancelled";
                        artifacts: components["schemas"]["Artifact"][];
                    } | components["schemas"]["TrainerEventBatch"];
                };
            };
            responses: {
                /** @description Stored, or acknowledged as a duplicate (a batch: the result of each event) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CallbackResponseBody"] | components["schemas"]["CallbackBatchResponseBody"];
                    };
                };
                /** @description Malformed request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/storage-urls": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A presigned URL to one of the job's inputs or outputs, for its trainer; authenticated by the job's callback token */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["StorageUrlRequestBody"];
                };
            };
            responses: {
                /** @description A URL for that one object and method, valid for a few minutes */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StorageUrlResponseBody"];
                    };
                };
                /** @description Malformed request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not allowed for this key */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Failed validation; `issues` names each offending field or file */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Temporarily unavailable; see Retry-After */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Health: {
            /** @enum {string} */
            status: "ok";
        };
        BackendReadiness: {
            ready: boolean;
            checks: {
                database: components["schemas"]["ReadinessCheck"];
                storage: components["schemas"]["ReadinessCheck"];
            };
        };
        ReadinessCheck: {
            ok: boolean;
            detail?: string;
        };
        ApiKeyCreateResponseBody: {
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            id: string;
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            userId: string;
            user: string;
            name: string;
            /** @description The secret itself. Shown only in this response; only its hash is kept. */
            key: string;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            createdAt: string;
        };
        Problem: {
            /** @example about:blank */
            type: string;
            title: string;
            status: number;
            detail?: string;
            instance?: string;
            /**
             * @description Stable machine-readable error code
             * @example validation_failed
             */
            code: string;
            issues?: components["schemas"]["ProblemIssue"][];
        };
        ProblemIssue: {
            /** @description Field path (`body.hyperparameters.epochs`) or file inside an upload */
            path: string;
            message: string;
        };
        ApiKeyCreateRequestBody: {
            /**
             * @description User the key belongs to; created when new
             * @example ada@example.com
             */
            user: string;
            /** @default default */
            name?: string;
        };
        ApiKeyListResponseBody: {
            items: components["schemas"]["ApiKey"][];
        };
        ApiKey: {
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            id: string;
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            userId: string;
            user: string;
            name: string;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            createdAt: string;
        };
        Dataset: {
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            id: string;
            name: string;
            format: components["schemas"]["DatasetFormat"];
            classNames: string[];
            imageCounts: components["schemas"]["ImageCounts"];
            bytes: number;
            sha256: string;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            createdAt: string;
        };
        /** @enum {string} */
        DatasetFormat: "yolo" | "imagefolder";
        ImageCounts: {
            train: number;
            val: number;
            test: number;
        };
        DatasetPage: {
            items: components["schemas"]["Dataset"][];
            /** @description Pass as `cursor` for the next page; null at the end */
            nextCursor: string | null;
        };
        Weights: {
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            id: string;
            name: string;
            framework: components["schemas"]["Framework"];
            model: string;
            /** @description The uploaded file name, as sent */
            fileName: string;
            bytes: number;
            sha256: string;
            format: components["schemas"]["WeightsFormat"];
            /** @description Classes of the weights' own head (a training on another class count rebuilds it) */
            numClasses: number | null;
            classNames: string[] | null;
            tensors: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            createdAt: string;
        };
        /** @enum {string} */
        Framework: "ultralytics" | "timm";
        /**
         * @description Read from the file's content, not its name
         * @enum {string}
         */
        WeightsFormat: "pytorch" | "safetensors";
        WeightsPage: {
            items: components["schemas"]["Weights"][];
            /** @description Pass as `cursor` for the next page; null at the end */
            nextCursor: string | null;
        };
        ModelListResponseBody: {
            items: (components["schemas"]["TrainerModel"] & {
                framework: components["schemas"]["Framework"];
            })[];
        };
        /** @enum {string} */
        ModelTask: "detect" | "classify";
        TrainerModel: {
            name: string;
            task: components["schemas"]["ModelTask"];
            /** @description True when the model cannot train from scratch and needs a checkpoint in S3 */
            needsPretrainedWeights: boolean;
            description: string;
        };
        Job: {
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            id: string;
            kind: components["schemas"]["JobKind"];
            /**
             * Format: uuid
             * @description For an export job: the job whose best checkpoint it exports; null for a training
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            exportOf: string | null;
            status: components["schemas"]["JobStatus"];
            framework: components["schemas"]["Framework"];
            model: string;
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            datasetId: string;
            initialWeights: components["schemas"]["InitialWeights"];
            hyperparameters: {
                [key: string]: unknown;
            };
            resources: components["schemas"]["Resources"];
            /** @description Limit on training time, counted over all attempts together */
            maxDurationSeconds: number | null;
            maxRetries: number;
            retryOnOutOfMemory: boolean;
            /** @description The current (or last) attempt, from 1 */
            attempt: number;
            /** @description Every attempt so far, oldest first */
            attempts: components["schemas"]["JobAttempt"][];
            progress: components["schemas"]["JobProgress"];
            latestMetrics: components["schemas"]["Metrics"];
            artifacts: components["schemas"]["Artifact"][];
            /** @description The formats the job exports its best checkpoint to (an export job: the one format it was asked for); a training whose export failed lacks that artifact, and its log says why */
            export: components["schemas"]["ExportFormat"][];
            error: components["schemas"]["JobError"];
            tracking: components["schemas"]["JobTracking"];
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            startedAt: string | null;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            finishedAt: string | null;
        };
        /** @enum {string} */
        JobKind: "training" | "export";
        /** @enum {string} */
        JobStatus: "queued" | "dispatching" | "running" | "succeeded" | "failed" | "cancelled";
        /** @description What the training started from: a checkpoint of another job, or uploaded weights; null for scratch */
        InitialWeights: {
            /**
             * Format: uuid
             * @description A finished job of yours whose checkpoint to start from
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            jobId: string;
            /**
             * @default best
             * @enum {string}
             */
            checkpoint?: "best" | "last";
        } | {
            /**
             * Format: uuid
             * @description Weights you uploaded (POST /v1/weights) for the same framework and model
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            weightsId: string;
        } | null;
        Resources: {
            /** @example 2 */
            cpu?: string;
            /** @example 4Gi */
            memory?: string;
            gpu?: number;
        } | null;
        JobAttempt: {
            attempt: number;
            /**
             * @description queued: waiting for a trainer; running: handed over; the rest as for a job
             * @enum {string}
             */
            status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
            /** @description The checkpoint epoch this attempt continued from; null when it started afresh */
            resumedFromEpoch: number | null;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            startedAt: string | null;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            endedAt: string | null;
            error: components["schemas"]["JobError"];
        };
        JobError: {
            code: components["schemas"]["FailureCode"];
            message: string;
        } | null;
        /** @enum {string} */
        FailureCode: "invalid_dataset" | "invalid_configuration" | "framework_error" | "out_of_memory" | "killed" | "time_limit_exceeded" | "lost" | "stalled" | "trainer_unavailable" | "dispatch_timeout" | "internal_error";
        JobProgress: {
            epoch: number;
            totalEpochs: number;
            fraction: number;
            phase: components["schemas"]["TrainingPhase"];
        };
        /**
         * @description What the training is doing, as its trainer last said
         * @enum {string|null}
         */
        TrainingPhase: "downloading_dataset" | "extracting_dataset" | "starting_runner" | "training" | "uploading_artifacts" | null;
        /**
         * @example {
         *       "train/loss": 0.82,
         *       "val/top1": 71.5
         *     }
         */
        Metrics: {
            [key: string]: number;
        } | null;
        Artifact: {
            kind: components["schemas"]["ArtifactKind"];
            /** @example s3://vtp/jobs/0b8e.../best.pt */
            uri: string;
            bytes: number;
            epoch?: number;
            /** @description sha256 of the stored bytes, verified by the trainer as it uploaded them */
            sha256?: string;
        };
        /**
         * @description onnx: the best checkpoint exported to ONNX
         * @enum {string}
         */
        ArtifactKind: "best" | "last" | "metrics" | "log" | "onnx";
        /** @enum {string} */
        ExportFormat: "onnx";
        /** @description Where the training is tracked (MLflow's run and its link); null when it is not */
        JobTracking: {
            mlflow: {
                experiment: string;
                /** @description Null until the trainer created the run */
                experimentId: string | null;
                /** @description One run per job: every attempt logs to it */
                runId: string | null;
                /**
                 * @description The run's page in the MLflow UI
                 * @example http://mlflow:5000/#/experiments/1/runs/5f3c...
                 */
                url: string | null;
            };
        } | null;
        JobCreateRequestBody: {
            /** @enum {string} */
            framework: "ultralytics";
            model: string;
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            datasetId: string;
            resources?: components["schemas"]["Resources"];
            maxDurationSeconds?: number;
            initialWeights?: components["schemas"]["InitialWeights"];
            /**
             * @description Automatic retries after an infrastructure failure (lost, stalled, trainer unavailable, killed), each resuming from the last checkpoint; 0 disables them
             * @default 2
             */
            maxRetries?: number;
            /**
             * @description Also retry a training that ran out of memory (it may well run out again)
             * @default false
             */
            retryOnOutOfMemory?: boolean;
            tracking?: components["schemas"]["JobTrackingRequest"];
            /**
             * @description Export the best checkpoint to these formats once the training succeeded; each export becomes an artifact of its kind
             * @default []
             */
            export?: components["schemas"]["ExportFormat"][];
            hyperparameters?: components["schemas"]["UltralyticsHyperparameters"];
        } | {
            /** @enum {string} */
            framework: "timm";
            model: string;
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            datasetId: string;
            resources?: components["schemas"]["Resources"];
            maxDurationSeconds?: number;
            initialWeights?: components["schemas"]["InitialWeights"];
            /**
             * @description Automatic retries after an infrastructure failure (lost, stalled, trainer unavailable, killed), each resuming from the last checkpoint; 0 disables them
             * @default 2
             */
            maxRetries?: number;
            /**
             * @description Also retry a training that ran out of memory (it may well run out again)
             * @default false
             */
            retryOnOutOfMemory?: boolean;
            tracking?: components["schemas"]["JobTrackingRequest"];
            /**
             * @description Export the best checkpoint to these formats once the training succeeded; each export becomes an artifact of its kind
             * @default []
             */
            export?: components["schemas"]["ExportFormat"][];
            hyperparameters?: components["schemas"]["TimmHyperparameters"];
        };
        JobTrackingRequest: {
            /** @description Needs MLflow on the platform (the backend's MLFLOW_TRACKING_URI) */
            mlflow: {
                /**
                 * @description The MLflow experiment the job's run goes into (created when missing)
                 * @example detectors
                 */
                experiment: string;
            };
        };
        /**
         * @default {
         *       "epochs": 10,
         *       "imgsz": 640,
         *       "batch": 16,
         *       "seed": 0,
         *       "lr0": 0.01,
         *       "lrf": 0.01,
         *       "momentum": 0.937,
         *       "weight_decay": 0.0005,
         *       "optimizer": "auto",
         *       "patience": 100,
         *       "warmup_epochs": 3,
         *       "cos_lr": false,
         *       "mosaic": 1,
         *       "fliplr": 0.5
         *     }
         */
        UltralyticsHyperparameters: {
            /** @default 10 */
            epochs?: number;
            /** @default 640 */
            imgsz?: number;
            /** @default 16 */
            batch?: number;
            /** @default 0 */
            seed?: number;
            /** @description Data-loading worker processes; unset = the framework's default on CUDA, 0 on the CPU */
            workers?: number;
            /** @description Mixed precision (CUDA only); unset = the framework's default (Ultralytics: on, after its check; timm: off) */
            amp?: boolean;
            /** @default 0.01 */
            lr0?: number;
            /** @default 0.01 */
            lrf?: number;
            /** @default 0.937 */
            momentum?: number;
            /** @default 0.0005 */
            weight_decay?: number;
            /**
             * @default auto
             * @enum {string}
             */
            optimizer?: "SGD" | "Adam" | "AdamW" | "NAdam" | "RAdam" | "RMSProp" | "auto";
            /** @default 100 */
            patience?: number;
            /** @default 3 */
            warmup_epochs?: number;
            /** @default false */
            cos_lr?: boolean;
            /** @default 1 */
            mosaic?: number;
            /** @default 0.5 */
            fliplr?: number;
        };
        /**
         * @default {
         *       "epochs": 10,
         *       "imgsz": 224,
         *       "batch": 32,
         *       "seed": 0,
         *       "lr": 0.001,
         *       "opt": "adamw",
         *       "sched": "cosine",
         *       "weight_decay": 0.05,
         *       "momentum": 0.9,
         *       "warmup_epochs": 0,
         *       "smoothing": 0.1,
         *       "drop_rate": 0
         *     }
         */
        TimmHyperparameters: {
            /** @default 10 */
            epochs?: number;
            /** @default 224 */
            imgsz?: number;
            /** @default 32 */
            batch?: number;
            /** @default 0 */
            seed?: number;
            /** @description Data-loading worker processes; unset = the framework's default on CUDA, 0 on the CPU */
            workers?: number;
            /** @description Mixed precision (CUDA only); unset = the framework's default (Ultralytics: on, after its check; timm: off) */
            amp?: boolean;
            /** @default 0.001 */
            lr?: number;
            /**
             * @default adamw
             * @enum {string}
             */
            opt?: "sgd" | "momentum" | "adam" | "adamw" | "lamb" | "rmsprop";
            /**
             * @default cosine
             * @enum {string}
             */
            sched?: "cosine" | "step" | "plateau" | "none";
            /** @default 0.05 */
            weight_decay?: number;
            /** @default 0.9 */
            momentum?: number;
            /** @default 0 */
            warmup_epochs?: number;
            /** @default 0.1 */
            smoothing?: number;
            /** @default 0 */
            drop_rate?: number;
        };
        JobPage: {
            items: components["schemas"]["Job"][];
            /** @description Pass as `cursor` for the next page; null at the end */
            nextCursor: string | null;
        };
        JobEventList: {
            items: components["schemas"]["JobEvent"][];
        };
        JobEvent: {
            /**
             * Format: uuid
             * @example 0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e
             */
            jobId: string;
            seq: number;
            /** @description The attempt that reported it */
            attempt: number;
            /** @description A progress event of an epoch that a later attempt trained again (it resumed from an earlier checkpoint): leave it out of metric histories */
            superseded: boolean;
            type: string;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            receivedAt: string;
            payload: {
                [key: string]: unknown;
            };
        };
        JobExportRequestBody: {
            format: components["schemas"]["ExportFormat"];
        };
        CallbackResponseBody: {
            /** @description False when the event was a duplicate or arrived too late to matter */
            accepted: boolean;
            seq: number;
        };
        CallbackBatchResponseBody: {
            /** @description One per event, in the same order */
            results: components["schemas"]["CallbackResponseBody"][];
        };
        MlflowRunRef: {
            experimentId: string;
            runId: string;
        };
        TrainerEventBatch: {
            events: components["schemas"]["TrainerEvent"][];
        };
        TrainerEvent: {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "started";
            totalEpochs: number;
            frameworkVersion?: string;
        } | {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "progress";
            /** @description 1-based epoch that just finished */
            epoch: number;
            totalEpochs: number;
            metrics: components["schemas"]["Metrics"];
        } | {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "checkpoint";
            epoch: number;
            artifacts: components["schemas"]["Artifact"][];
        } | {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "log";
            /** @enum {string} */
            level: "debug" | "info" | "warn" | "error";
            message: string;
        } | {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "heartbeat";
            phase?: components["schemas"]["TrainingPhase"];
            /**
             * Format: date-time
             * @description When the training last made real progress (bytes moved, an epoch finished), not just lived
             * @example 2026-11-23T10:00:00.000Z
             */
            lastProgressAt?: string;
            /** @description Silence in this phase past this many seconds is a stall */
            stallLimitSeconds?: number;
        } | {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "tracking";
            mlflow: components["schemas"]["MlflowRunRef"];
        } | {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "completed";
            metrics: components["schemas"]["Metrics"];
            artifacts: components["schemas"]["Artifact"][];
        } | {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "failed";
            error: components["schemas"]["JobError"];
            /**
             * @description What was kept: at least the training log
             * @default []
             */
            artifacts?: components["schemas"]["Artifact"][];
        } | {
            /** @description Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt) */
            seq: number;
            /**
             * Format: date-time
             * @example 2026-11-23T10:00:00.000Z
             */
            timestamp: string;
            /** @enum {string} */
            type: "cancelled";
            artifacts: components["schemas"]["Artifact"][];
        };
        StorageUrlResponseBody: {
            /**
             * Format: uri
             * @description Presigned URL for this one object and method
             */
            url: string;
            /** @description The object, as artifacts name it */
            uri: string;
            /**
             * Format: date-time
             * @description The URL must be used (the request started) before this
             * @example 2026-11-23T10:00:00.000Z
             */
            expiresAt: string;
        };
        StorageUrlRequestBody: {
            /** @enum {string} */
            method: "GET";
            /** @description One of the job's inputs or an object under its own output prefix */
            uri: string;
        } | {
            /** @enum {string} */
            method: "PUT";
            /** @example weights/epoch-3/best.pt */
            name: string;
            /** @description The exact size of the object; the upload must send these many bytes */
            bytes: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;

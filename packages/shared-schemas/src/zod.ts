import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// `.openapi()` must exist on every schema before any contract module builds one.
extendZodWithOpenApi(z);

export { z };

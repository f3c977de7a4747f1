// The baseline of the callback rows: the least a callback route can do, a bare express route with one
// `INSERT ... ON CONFLICT DO NOTHING` into the same PostgreSQL, in a process of its own as the backend is.
// Prints its URL as one line once it listens.
import express from 'express';
import pg from 'pg';

const { DATABASE_URL } = process.env;
if (!DATABASE_URL) throw new Error('DATABASE_URL is required');
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
await pool.query(
  'CREATE TABLE IF NOT EXISTS bench_events (job_id uuid, seq integer, type text, payload jsonb, PRIMARY KEY (job_id, seq))',
);
const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/events/:jobId', async (req, res) => {
  const { seq, type, ...payload } = req.body as { seq: number; type: string };
  const inserted = await pool.query(
    'INSERT INTO bench_events (job_id, seq, type, payload) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [req.params.jobId, seq, type, JSON.stringify(payload)],
  );
  res.json({ accepted: inserted.rowCount === 1, seq });
});
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  void pool.end();
});

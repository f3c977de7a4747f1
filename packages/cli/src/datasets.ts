import { type Dataset, unwrap, type VtpClient } from '@vtp/client';
import { CliError, ExitCode } from './exitCodes.ts';
import { collectPages } from './paging.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function listDatasets(vtp: VtpClient, limit: number): Promise<Dataset[]> {
  return collectPages(
    async (cursor, pageLimit) =>
      unwrap(await vtp.api.GET('/v1/datasets', { params: { query: { limit: pageLimit, cursor } } })),
    limit,
  );
}

/** A dataset by its id, or by its name when that names exactly one of yours. */
export async function findDataset(vtp: VtpClient, idOrName: string): Promise<Dataset> {
  if (UUID.test(idOrName)) {
    return unwrap(await vtp.api.GET('/v1/datasets/{id}', { params: { path: { id: idOrName } } }));
  }
  const named = (await listDatasets(vtp, Number.MAX_SAFE_INTEGER)).filter((d) => d.name === idOrName);
  if (named.length === 0) throw new CliError(`no dataset named "${idOrName}"`, ExitCode.refused);
  if (named.length > 1) {
    throw new CliError(
      `${named.length} datasets are named "${idOrName}": use an id (${named.map((d) => d.id).join(', ')})`,
    );
  }
  return named[0] as Dataset;
}

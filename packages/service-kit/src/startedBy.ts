/**
 * The pid of the process that started this one, read when this module is evaluated. An entry point imports it
 * first, before the modules that take seconds to load: a parent that dies while the service still starts up
 * has already been replaced by the reaper when the service reads `process.ppid` later, and would go unnoticed.
 * (What remains is Node's own start and the loading of the module graph, under a second on an idle machine: a
 * parent that dies within it is not seen.)
 */
export const startedBy = process.ppid;

/*
 * Host paths a spec names (a Volume's source image, a VM's kernel and
 * initrd), confined to a folder the node's operator chose. Specs come
 * from tenants, who must learn nothing of the host outside that folder:
 * a path outside it is refused before anything looks at the file system,
 * so the answer is the same whether it exists or not.
 */
#ifndef NC_HOSTPATH_H
#define NC_HOSTPATH_H

#include <limits.h>

/*
 * Resolves @path, absolute and free of "." and ".." (the validators see
 * to that), inside folder @dir: @path must lie inside @dir as written,
 * and still once symbolic links are resolved, and be a regular file the
 * daemon can read. Fills @resolved (the real path, which is what should
 * be used from then on) and returns NULL, or returns why not, a phrase
 * that follows the field's name ("must be inside the node's image folder
 * (--image-dir)", "does not exist on this node", ...) written into @why.
 * @folder names @dir for the message: "image folder (--image-dir)".
 */
const char *nc_hostpath_resolve(const char *dir, const char *folder, const char *path,
                                char resolved[PATH_MAX], char *why, size_t whysz);

#endif

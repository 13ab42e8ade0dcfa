/* Folders the drivers keep their files in (dnsmasq's, cloud-init seeds). */
#ifndef NC_DRIVER_FILES_H
#define NC_DRIVER_FILES_H

/* Creates @dir and its missing parents, mode 0755. 0, or a negative errno
 * with the reason in nc_drv_errmsg(). */
int nc_mkdir_p(const char *dir) __attribute__((warn_unused_result));

/* Removes folder @dir with the files in it (not folders); a missing @dir
 * is fine. 0, or a negative errno with the reason in nc_drv_errmsg(). */
int nc_rmdir_files(const char *dir) __attribute__((warn_unused_result));

#endif

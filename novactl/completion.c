/* completion: the bash completion script. */
#include <stdio.h>
#include <string.h>

#include "novactl/cli.h"

static const char bash_script[] =
    "# bash completion for novactl: source <(novactl completion bash)\n"
    "_novactl() {\n"
    "    local cur prev verb i\n"
    "    cur=${COMP_WORDS[COMP_CWORD]}\n"
    "    prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        case ${COMP_WORDS[i]} in\n"
    "        apply|validate|get|describe|delete|wait|cordon|uncordon|drain|migrate|snapshot|restore|restart|console|logs|completion) verb=${COMP_WORDS[i]}; break;;\n"
    "        esac\n"
    "    done\n"
    "    case $prev in\n"
    "    -f|--filename) COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n"
    "    -o|--output) COMPREPLY=($(compgen -W 'table wide json name text' -- \"$cur\")); return;;\n"
    "    --for) COMPREPLY=($(compgen -W 'ready delete phase=' -- \"$cur\")); return;;\n"
    "    --to) COMPREPLY=($(compgen -W \"$(novactl get node -o name 2>/dev/null | sed 's,^node/,,')\" -- \"$cur\")); return;;\n"
    "    -n|--namespace|-l|--selector|--timeout|--etcd|--prefix|--etcd-*) return;;\n"
    "    esac\n"
    "    if [[ -z $verb ]]; then\n"
    "        COMPREPLY=($(compgen -W 'apply validate get describe delete wait cordon uncordon drain migrate snapshot restore restart console logs completion --help' -- \"$cur\"))\n"
    "        return\n"
    "    fi\n"
    "    if [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$(novactl \"$verb\" --help 2>/dev/null | grep -o -- '--[a-z-]*' | sort -u)\" -- \"$cur\"))\n"
    "        return\n"
    "    fi\n"
    "    case $verb in\n"
    "    completion) COMPREPLY=($(compgen -W 'bash' -- \"$cur\"));;\n"
    "    cordon|uncordon|drain) COMPREPLY=($(compgen -W \"$(novactl get node -o name 2>/dev/null | sed 's,^node/,,')\" -- \"$cur\"));;\n"
    "    migrate|snapshot|restore|restart|console|logs)\n"
    "        if [[ $prev == \"$verb\" ]]; then COMPREPLY=($(compgen -W 'vm' -- \"$cur\"))\n"
    "        else COMPREPLY=($(compgen -W \"$(novactl get vm -o name 2>/dev/null | sed 's|.*/||')\" -- \"$cur\")); fi;;\n"
    "    get|describe|delete|wait)\n"
    "        if [[ $prev == \"$verb\" ]]; then\n"
    "            COMPREPLY=($(compgen -W 'vm network volume migration snapshot restore instancetype networkpolicy node' -- \"$cur\"))\n"
    "        else\n"
    "            local ns=() w\n"
    "            for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "                w=${COMP_WORDS[i]}\n"
    "                [[ $w == -n || $w == --namespace ]] && ns=(-n \"${COMP_WORDS[i+1]}\")\n"
    "            done\n"
    "            COMPREPLY=($(compgen -W \"$(novactl get \"$prev\" -o name \"${ns[@]}\" 2>/dev/null | sed 's|.*/||')\" -- \"$cur\"))\n"
    "        fi;;\n"
    "    esac\n"
    "}\n"
    "complete -F _novactl novactl\n";

int
cli_completion(struct cli *c)
{
    if (c->argc != 1 || strcmp(c->argv[0], "bash") != 0) {
        fputs("novactl: completion takes one argument: bash\n", stderr);
        return 2;
    }
    fputs(bash_script, stdout);
    return 0;
}

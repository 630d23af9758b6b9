# Install rules and the Debian package (issue 16). Included from the top-level CMakeLists.txt.
#
#   cmake --install build/release --prefix /tmp/x   any prefix; the tree is relocatable
#   cd build/release && cpack -G DEB                 vault-proxy_<version>_<arch>.deb (scripts/package)
#
# /etc follows the GNUInstallDirs rule: with the prefix /usr (the package), the config goes to
# /etc/vault-proxy; with any other prefix, to <prefix>/etc/vault-proxy. Units and the other files are
# always under the prefix. The units name /usr/bin/vault-proxy; an install elsewhere rewrites that
# to <prefix>/bin/vault-proxy, so the installed units always start the installed binary.
include(GNUInstallDirs)

set(_vp_dist ${CMAKE_BINARY_DIR}/generated/dist)
set(_vp_units vault-proxy.service vault-proxy.socket vault-proxy-rotate@.service vault-proxy-rotate@.timer)

# The man page and the completions come from the binary itself (help-export), from the same CLI11
# tree as --help, so the three cannot drift.
add_custom_command(
  OUTPUT ${_vp_dist}/vault-proxy.1 ${_vp_dist}/vault-proxy.1.gz ${_vp_dist}/vault-proxy.bash ${_vp_dist}/_vault-proxy
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_vp_dist}
  COMMAND $<TARGET_FILE:vault-proxy> help-export --format man > ${_vp_dist}/vault-proxy.1
  COMMAND gzip -9 -n -c ${_vp_dist}/vault-proxy.1 > ${_vp_dist}/vault-proxy.1.gz
  COMMAND $<TARGET_FILE:vault-proxy> help-export --format bash > ${_vp_dist}/vault-proxy.bash
  COMMAND $<TARGET_FILE:vault-proxy> help-export --format zsh > ${_vp_dist}/_vault-proxy
  DEPENDS vault-proxy
  COMMENT "Generating vault-proxy(1) and the bash/zsh completions"
  VERBATIM)
# Debian wants the changelog compressed (lintian: no-changelog / changelog-file-not-compressed).
add_custom_command(
  OUTPUT ${_vp_dist}/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_vp_dist}
  COMMAND gzip -9 -n -c ${PROJECT_SOURCE_DIR}/packaging/debian/changelog > ${_vp_dist}/changelog.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/packaging/debian/changelog
  VERBATIM)
add_custom_target(vp_dist ALL DEPENDS ${_vp_dist}/vault-proxy.1.gz ${_vp_dist}/vault-proxy.bash
                                      ${_vp_dist}/_vault-proxy ${_vp_dist}/changelog.gz)

install(TARGETS vault-proxy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${_vp_dist}/vault-proxy.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_vp_dist}/vault-proxy.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME vault-proxy)
install(FILES ${_vp_dist}/_vault-proxy DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/copyright ${_vp_dist}/changelog.gz
              ${PROJECT_SOURCE_DIR}/docs/runbook.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vault-proxy)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME vault-proxy)

# Units (rewritten for the prefix) and the config (under /etc for the prefix /usr): decided at
# install time, because cpack installs with the prefix /usr while the build tree's prefix is
# /usr/local. file(INSTALL) adds $DESTDIR itself.
set(_vp_unit_sources)
foreach(_u ${_vp_units})
  list(APPEND _vp_unit_sources ${PROJECT_SOURCE_DIR}/dist/systemd/${_u})
endforeach()
install(CODE "set(_vp_unit_sources \"${_vp_unit_sources}\")
set(_vp_config \"${PROJECT_SOURCE_DIR}/examples/vault-proxy.toml\")
set(_vp_stage \"${_vp_dist}/units\")")
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(_vp_etc "/etc/vault-proxy")
  else()
    set(_vp_etc "${CMAKE_INSTALL_PREFIX}/etc/vault-proxy")
  endif()
  file(INSTALL DESTINATION "${_vp_etc}" TYPE FILE FILES "${_vp_config}")
  # One staging folder per destination: two installs from one build tree may run at once (ctest -j).
  string(MD5 _vp_key "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
  set(_vp_stage "${_vp_stage}/${_vp_key}")
  file(MAKE_DIRECTORY "${_vp_stage}")
  set(_vp_staged)
  foreach(_u ${_vp_unit_sources})
    get_filename_component(_n "${_u}" NAME)
    file(READ "${_u}" _text)
    string(REPLACE "/usr/bin/vault-proxy" "${CMAKE_INSTALL_PREFIX}/bin/vault-proxy" _text "${_text}")
    string(REPLACE "/etc/vault-proxy/" "${_vp_etc}/" _text "${_text}")
    file(WRITE "${_vp_stage}/${_n}" "${_text}")
    list(APPEND _vp_staged "${_vp_stage}/${_n}")
  endforeach()
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE FILES ${_vp_staged})
]])

# --- Debian package ----------------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "vault-proxy")
set(CPACK_PACKAGE_VENDOR "vault-proxy maintainers")
set(CPACK_PACKAGE_CONTACT "vault-proxy maintainers <maintainers@users.noreply.r-seed-a06e4c74.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "local reverse proxy that adds a Cloudflare Access service token")
set(CPACK_PACKAGE_DESCRIPTION
    "vault-proxy listens on 127.0.0.1:2019 and forwards every request to one HTTPS\n"
    "upstream, typically a self-hosted Infisical vault behind Cloudflare Access,\n"
    "adding the Access service token on the way. Tools that cannot send custom\n"
    "headers, such as the Infisical MCP server, reach the vault through it.\n"
    "The package ships a hardened systemd service, an optional socket unit, a\n"
    "rotation timer for machine identities, the vault-proxy(1) man page and bash\n"
    "and zsh completions.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

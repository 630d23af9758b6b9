# Configure-time git revision for `vault-proxy --version` (issue 16), written to
# generated/vault_proxy/build_info.hpp. A commit or checkout changes .git's logs/HEAD, which is a
# configure dependency, so the next build reconfigures and the revision stays current.
set(VP_GIT_REVISION "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                  OUTPUT_VARIABLE _vp_rev OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _vp_rc)
  if(_vp_rc EQUAL 0 AND _vp_rev)
    set(VP_GIT_REVISION "${_vp_rev}")
  endif()
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --absolute-git-dir
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                  OUTPUT_VARIABLE _vp_git_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  foreach(_f "${_vp_git_dir}/logs/HEAD" "${_vp_git_dir}/HEAD")
    if(_vp_git_dir AND EXISTS "${_f}")
      set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_f}")
    endif()
  endforeach()
endif()
configure_file(${PROJECT_SOURCE_DIR}/src/build_info.hpp.in ${CMAKE_BINARY_DIR}/generated/vault_proxy/build_info.hpp @ONLY)
